"""Data quality: validators that ``@check_output`` runs on node outputs."""
