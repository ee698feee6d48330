"""Writes __fixtures__/transformers5/t5config-fields.json: every typed field of transformers 5's T5Config
(its own fields and those it inherits from PreTrainedConfig), with the Python type `@strict` checks when a
config.json is loaded. Run with the reference stack: /work/venv/bin/python scripts/dump_t5config_fields.py"""
import dataclasses
import json
import pathlib
import re

import transformers
from transformers import T5Config


def type_text(t) -> str:
    s = t if isinstance(t, str) else getattr(t, "__name__", None) if isinstance(t, type) else str(t)
    # typing renders builtins as <class 'int'> inside unions on some versions; keep the plain names
    return re.sub(r"<class '([\w.]+)'>", r"\1", str(s)).replace("typing.", "")


fields = [{"name": f.name, "type": type_text(f.type)} for f in dataclasses.fields(T5Config)]
out = {
    "source": f"transformers {transformers.__version__}: dataclasses.fields(transformers.T5Config) "
    "(models/t5/configuration_t5.py, inheriting configuration_utils.PreTrainedConfig), typed and checked by "
    "huggingface_hub.dataclasses.strict",
    "fields": fields,
}
path = pathlib.Path(__file__).resolve().parent.parent / "__fixtures__" / "transformers5" / "t5config-fields.json"
path.write_text(json.dumps(out, indent=2) + "\n")
print(f"wrote {len(fields)} fields to {path}")
