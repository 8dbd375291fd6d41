# The delta-rs side of test/sinks/delta/golden.test.ts: reads each (table, version) with delta-rs and
# returns its rows in a canonical, type-directed JSON form that the TypeScript side reproduces from
# lakestream's rows (integers as strings, decimals as exact text, timestamps as epoch microseconds,
# binary as base64, maps as entry lists) with the live file list, or the errors delta-rs raised.
# Run through PythonSession: `args["requests"]` is a list of [path, version-or-None, mode] where mode is
# "delta-rs" or "pyarrow-files" (see read_files); sets `result`.
import base64
import datetime
import hashlib
import json
import math

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

_EPOCH = datetime.datetime(1970, 1, 1)
_EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _micros(v):
    if hasattr(v, "value") and not isinstance(v, datetime.datetime):  # pandas.Timestamp (ns)
        return v.value // 1000
    if hasattr(v, "to_pydatetime") and hasattr(v, "value"):
        return v.value // 1000
    epoch = _EPOCH_UTC if v.tzinfo is not None else _EPOCH
    delta = v - epoch
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def canon(v, t):
    if v is None:
        return None
    if pa.types.is_struct(t):
        return {t.field(i).name: canon(v.get(t.field(i).name), t.field(i).type) for i in range(t.num_fields)}
    if pa.types.is_map(t):
        return {"$map": [[canon(k, t.key_type), canon(x, t.item_type)] for k, x in v]}
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [canon(x, t.value_type) for x in v]
    if pa.types.is_boolean(t):
        return bool(v)
    if pa.types.is_integer(t):
        return str(int(v))
    if pa.types.is_floating(t):
        f = float(v)
        return {"$float": str(f)} if math.isnan(f) or math.isinf(f) else f
    if pa.types.is_decimal(t):
        return {"$decimal": format(v, "f")}
    if pa.types.is_timestamp(t):
        return {"$ts": str(_micros(v))}
    if pa.types.is_date(t):
        return v.isoformat()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return {"$binary": base64.b64encode(bytes(v)).decode("ascii")}
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return str(v)
    return {"$unknown": str(t), "value": str(v)}


# Tables with more rows than this are compared by a digest of their sorted canonical rows, computed
# with vectorized pyarrow kernels (flat tables of integer, decimal, boolean and date columns only).
DIGEST_ABOVE = 20000


def _fast_canonical(data):
    """Canonical row texts built column-wise, or None when a column type has no vectorized form."""
    rows = None
    for i, name in enumerate(sorted(data.column_names)):
        col = data.column(name)
        t = col.type
        text = pc.cast(col, pa.string())
        if pa.types.is_integer(t) or pa.types.is_date(t):
            text = pc.binary_join_element_wise('"', text, '"', "")
        elif pa.types.is_decimal(t):
            text = pc.binary_join_element_wise('{"$decimal":"', text, '"}', "")
        elif not pa.types.is_boolean(t):
            return None
        text = pc.fill_null(text, "null")
        prefix = ("{" if i == 0 else ",") + json.dumps(name) + ":"
        part = pc.binary_join_element_wise(prefix, text, "")
        rows = part if rows is None else pc.binary_join_element_wise(rows, part, "")
    if rows is None:
        return None
    return pc.binary_join_element_wise(rows, "}", "")


def _rows(table):
    data = table.to_pyarrow_table()
    if data.num_rows > DIGEST_ABOVE:
        texts = _fast_canonical(data)
        if texts is not None:
            ordered = pc.take(texts, pc.sort_indices(texts)).to_pylist()
            digest = hashlib.sha256("\n".join(ordered).encode("utf-8")).hexdigest()
            return {"ok": True, "count": data.num_rows, "digest": digest}
    fields = [(f.name, f.type) for f in data.schema]
    rows = [{name: canon(row.get(name), typ) for name, typ in fields} for row in data.to_pylist()]
    return {"ok": True, "rows": rows}


def _error(error):
    return {"ok": False, "error": f"{type(error).__name__}: {error}"[:500]}


def read(path, version):
    try:
        table = DeltaTable(path, version=version) if version is not None else DeltaTable(path)
    except BaseException as error:  # delta-rs raises many exception types; report them all
        failed = _error(error)
        return {"snapshot": failed, "rows": failed}
    prefix = path.rstrip("/") + "/"
    files = sorted(uri[len(prefix):] if uri.startswith(prefix) else uri for uri in table.file_uris())
    snapshot = {"ok": True, "version": table.version(), "files": files}
    try:
        rows = _rows(table)
    except BaseException as error:
        rows = _error(error)
    return {"snapshot": snapshot, "rows": rows}


def read_files(path, version):
    """Independent oracle for tables delta-rs cannot scan: pyarrow reads each data file that delta-rs's
    snapshot lists (data columns only; partition columns are not in the files)."""
    import pyarrow.parquet as pq

    try:
        table = DeltaTable(path, version=version) if version is not None else DeltaTable(path)
        rows = []
        for uri in table.file_uris():
            data = pq.read_table(uri)
            fields = [(f.name, f.type) for f in data.schema]
            rows.extend({name: canon(row.get(name), typ) for name, typ in fields} for row in data.to_pylist())
        return {"ok": True, "rows": rows}
    except BaseException as error:
        return _error(error)


result = [
    read_files(path, version) if mode == "pyarrow-files" else read(path, version)
    for path, version, mode in args["requests"]
]
