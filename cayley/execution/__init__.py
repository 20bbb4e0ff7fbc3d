"""Plan compilation, task grouping, the scheduler and the task executors."""
