"""A cache of trained models, keyed by what made them: never a stale model.

:func:`cached_model` returns ``<cache>/models/<name>-<key12>``, where ``<cache>`` is
:func:`common.data.cache_dir` (``$GATAM_DATA_DIR`` or ``data/cache``) and ``key12`` is the first
12 hex digits of a SHA-256 over the name, the JSON of the training parameters (sorted keys) and
the registry SHA-256 of every data file the model was trained on. Other parameters or other data
give another key, hence another folder: a model is never reused for settings it was not trained
with. When the folder is missing, ``build(tmp_dir)`` writes the model into a fresh temporary
folder next to it, which is then renamed into place in one step; a build that raises leaves
nothing behind. Each folder also holds ``cache_key.json`` (name, parameters, data keys and
hashes) so that a reader can see what it contains.

Example:
    >>> path = cached_model("phrasebank-minilm", {"lr": 5e-5, "epochs": 3},
    ...                     ["financial_phrasebank/Sentences_50Agree.txt"],
    ...                     build=lambda tmp: fine_tune(...).save(tmp))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["KEY_FILE", "cache_key", "cached_model", "models_dir"]

#: File written into every cached model folder: what the key was computed from.
KEY_FILE = "cache_key.json"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def models_dir() -> Path:
    """``<cache>/models`` (created if missing)."""
    from common.data import cache_dir

    folder = cache_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _key_payload(name: str, params: dict, data_keys: list) -> dict:
    from common.data import REGISTRY, UnknownDatasetError

    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be letters, digits, '.', '_' or '-', got {name!r}")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    if isinstance(data_keys, str):
        raise TypeError("data_keys must be a list of registry keys, not one string")
    hashes = {}
    for key in data_keys:
        if key not in REGISTRY:
            raise UnknownDatasetError(f"data key {key!r} is not in common/registry.tsv")
        hashes[key] = REGISTRY[key]["sha256"]
    try:
        params_json = json.dumps(params, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise TypeError(f"params must be JSON-serializable (plain numbers, strings, lists): {err}") from err
    return {"name": name, "params": json.loads(params_json), "data": hashes}


def cache_key(name: str, params: dict, data_keys: list) -> str:
    """The full hex SHA-256 key of a model (see the module docstring)."""
    payload = _key_payload(name, params, data_keys)
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def cached_model(name: str, params: dict, data_keys: list, build: Callable[[Path], None]) -> Path:
    """Folder of the model ``name`` trained with ``params`` on ``data_keys``; built if missing.

    Args:
        name: short model name (letters, digits, ``. _ -``), the folder's prefix.
        params: everything that changes the trained model (JSON-serializable).
        data_keys: registry keys (``common/registry.tsv``) of the training data; their SHA-256
            enter the key.
        build: ``build(tmp_dir)`` writes the model into the existing empty folder ``tmp_dir``.

    Returns:
        The path ``<cache>/models/<name>-<key12>``.

    Raises:
        UnknownDatasetError: a data key is not in the registry.
        RuntimeError: ``build`` wrote nothing into its folder.
        Whatever ``build`` raises (the temporary folder is removed first).
    """
    payload = _key_payload(name, params, data_keys)
    key12 = cache_key(name, params, data_keys)[:12]
    root = models_dir()
    final = root / f"{name}-{key12}"
    if final.is_dir():
        print(f"model cache: loaded {name} from {final}")
        return final
    print(f"model cache: no {name} for these settings (key {key12}); training it ...")
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-{key12}.", suffix=".tmp", dir=root))
    try:
        build(tmp)
        if not any(tmp.iterdir()):
            raise RuntimeError(f"build() wrote nothing into {tmp} for model {name!r}")
        (tmp / KEY_FILE).write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
        try:
            tmp.rename(final)
        except OSError:
            if not final.is_dir():  # not a concurrent build that finished first
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"model cache: trained {name} and saved it to {final}")
    return final
