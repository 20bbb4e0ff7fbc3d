"""Notebook magic: ``%%cell_to_module`` turns a cell into a dataflow module, and can draw and
run it on the spot.

.. code-block:: text

    %load_ext cayley.plugins.jupyter_magic

    %%cell_to_module etl --display --execute
    def raw(path: str) -> list[str]:
        return open(path).read().splitlines()

    def count(raw: list[str]) -> int:
        return len(raw)

The cell becomes the module ``etl`` (in ``sys.modules`` and in the notebook's namespace);
the functions it defines are also put in the namespace, so a function object can be asked
for as an output. Options, as Hamilton's magic has them:

- ``NAME`` (or ``-m/--module_name NAME``): the module's name.
- ``-c/--config CONFIG``: a JSON object, ``key=value`` pairs, or the name of a dict variable.
- ``-b/--builder VAR``: a ``Builder`` to start from (its adapters, executors and config); it is
  copied, never changed.
- ``-d/--display [VAR]``: draw the dataflow (what ``--execute`` runs, when given); ``VAR``
  names a dict of drawing options (``orient``, ``hide_inputs``, ...).
- ``-x/--execute [VAR]``: run it; ``VAR`` names a list of outputs, else every node is
  computed. Results become notebook variables (a ``.`` in a name becomes ``_``).
- ``-i/--inputs VAR``, ``-o/--overrides VAR``: dicts for the run.
- ``--show_results``: display each result.
- ``-w/--write_to_file [PATH]``: also write the cell to ``PATH`` (default ``NAME.py``).

Mistakes (an unknown variable, bad JSON, a config given twice) raise IPython's
``UsageError`` naming the option. Needs IPython: ``pip install "cayley[jupyter]"``.
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

try:
    from IPython.core.error import UsageError
    from IPython.core.magic import Magics, cell_magic, magics_class
    from IPython.core.magic_arguments import argument, magic_arguments
    from IPython.display import display
    from IPython.utils.process import arg_split
except ImportError as _missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "cayley.plugins.jupyter_magic needs IPython, which is not installed: "
        'pip install "cayley[jupyter]"'
    ) from _missing

from cayley import ad_hoc_utils, driver

__all__ = ["CayleyMagics", "load_ipython_extension"]

#: Hamilton's options that no longer do anything; accepted with a note so old cells run.
_RETIRED = {"-r", "--rebuild-drivers", "--rebuilder-drivers", "-v", "--verbose", "--hide_results"}


def _parse_config(text: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """``--config``: a dict variable's name, a JSON object, or ``key=value`` pairs."""
    value = namespace.get(text)
    if isinstance(value, Mapping):
        return dict(value)
    stripped = text.strip("'\"")
    if stripped.startswith("{"):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"--config {text} is not valid JSON ({exc.msg} at column {exc.colno}); write "
                'it as \'{"key": "value"}\', as key=value pairs, or name a dict variable.'
            ) from None
        if isinstance(parsed, dict):
            return parsed
    pairs = text.split()
    if pairs and all("=" in pair for pair in pairs):
        return dict(pair.split("=", 1) for pair in pairs)
    raise UsageError(
        f"--config {text}: expected a JSON object, key=value pairs, or the name of a dict "
        "variable of the notebook."
    )


def _lookup(namespace: Mapping[str, Any], option: str, name: str, kind: type | tuple) -> Any:
    """The notebook variable an option names, checked to be of the expected kind."""
    if name not in namespace:
        raise UsageError(f"{option} {name}: there is no variable {name!r} in the notebook.")
    value = namespace[name]
    if not isinstance(value, kind):
        expected = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise UsageError(
            f"{option} {name}: expected {expected}, but {name!r} is {type(value).__name__}."
        )
    return value


def _module_name(args: Any) -> str:
    named = args.module_name if isinstance(args.module_name, str) else None
    if args.name and named and args.name != named:
        raise UsageError(
            f"Give the module's name once: got {args.name!r} and --module_name {named!r}."
        )
    name = args.name or named
    if not name:
        raise UsageError("%%cell_to_module needs the module's name: %%cell_to_module NAME.")
    if not name.isidentifier():
        raise UsageError(f"Module name {name!r} is not a valid Python identifier.")
    return name


@magics_class
class CayleyMagics(Magics):
    """The ``%%cell_to_module`` cell magic."""

    @magic_arguments()
    @argument("name", nargs="?", help="name of the module the cell becomes")
    @argument("-m", "--module_name", nargs="?", const=True, help="the module's name (alias)")
    @argument("-c", "--config", help="config: JSON object, key=value pairs, or a dict variable")
    @argument("-b", "--builder", help="a Builder variable to start from (copied)")
    @argument(
        "-d", "--display", nargs="?", const=True, help="draw the dataflow; VAR: drawing options"
    )
    @argument(
        "-x", "--execute", nargs="?", const=True, help="run it; VAR: list of outputs (else all)"
    )
    @argument("-i", "--inputs", help="a dict variable of inputs for --execute")
    @argument("-o", "--overrides", help="a dict variable of overrides for --execute")
    @argument("--show_results", action="store_true", help="display each result")
    @argument("-w", "--write_to_file", nargs="?", const=True, help="also write the cell to a file")
    @cell_magic
    def cell_to_module(self, line: str, cell: str) -> None:
        """Turns the cell into a dataflow module; optionally draws and runs it."""
        argv = arg_split(line)
        retired = [a for a in argv if a in _RETIRED]
        if retired:
            print(f"Ignored {', '.join(retired)}: these options no longer do anything.")
        args = self.cell_to_module.parser.parse_args([a for a in argv if a not in _RETIRED])
        namespace = self.shell.user_ns
        name = _module_name(args)
        config = _parse_config(args.config, namespace) if args.config else {}
        base = (
            _lookup(namespace, "--builder", args.builder, driver.Builder) if args.builder else None
        )
        if config and base is not None and base.config:
            raise UsageError(
                "Give the config once: --builder already has a config; pass --config or a "
                "Builder with a config, not both."
            )
        inputs = _lookup(namespace, "--inputs", args.inputs, Mapping) if args.inputs else {}
        overrides = (
            _lookup(namespace, "--overrides", args.overrides, Mapping) if args.overrides else {}
        )
        drawing = (
            _lookup(namespace, "--display", args.display, Mapping)
            if isinstance(args.display, str)
            else {}
        )
        outputs = (
            list(_lookup(namespace, "--execute", args.execute, (list, tuple)))
            if isinstance(args.execute, str)
            else None
        )
        if args.write_to_file:
            target = args.write_to_file if isinstance(args.write_to_file, str) else f"{name}.py"
            Path(target).write_text(cell, encoding="utf-8")

        module = ad_hoc_utils.module_from_source(cell, module_name=name)
        self.shell.push({name: module, **_defined(module)})
        builder = (base.copy() if base is not None else driver.Builder()).with_config(config)
        dr = builder.with_modules(module).build()
        if outputs is None:
            outputs = [n.name for n in dr.list_available_variables() if not n.is_external_input]
            outputs = dr.graph.in_topological_order(outputs)

        if args.display:
            if args.execute:
                dot = dr.visualize_execution(
                    outputs,
                    inputs=dict(inputs),
                    overrides=dict(overrides),
                    **{"bypass_validation": True, **drawing},
                )
            else:
                dot = dr.display_all_functions(**drawing)
            display(dot)
        if args.execute:
            results = dr.execute(outputs, inputs=dict(inputs), overrides=dict(overrides))
            self._push_results(name, results, outputs, args.show_results)

    def _push_results(self, name: str, results: Any, outputs: list[str], show: bool) -> None:
        if isinstance(results, Mapping):
            values = {key.replace(".", "_"): value for key, value in results.items()}
            self.shell.push(values)
            if show:
                display(*(results[o] for o in outputs if o in results))
            return
        # A result builder made one object (a DataFrame, ...): it becomes one variable.
        variable = f"{name}_results"
        self.shell.push({variable: results})
        print(f"The results are in {variable}.")
        if show:
            display(results)


def _defined(module: types.ModuleType) -> dict[str, Any]:
    """What the cell defined, for the notebook's namespace (no dunders)."""
    return {k: v for k, v in vars(module).items() if not k.startswith("__")}


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext cayley.plugins.jupyter_magic`` registers the magic."""
    ipython.register_magics(CayleyMagics)
