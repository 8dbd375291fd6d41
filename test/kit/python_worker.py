"""Persistent Python worker for lakestream tests (driven by test/kit/python.ts).

Reads one JSON request per line on stdin: {"id": n, "code": "...", "args": {...}}. The code runs
in one globals dict that persists across requests (so a Spark session is started once per worker),
with `args` bound; it sets `result`. Replies on stdout with one JSON line {"id", "ok", "result" |
"error"}; anything the code prints goes to stderr.
"""
import base64
import datetime
import decimal
import json
import math
import sys
import traceback

_reply = sys.stdout
sys.stdout = sys.stderr


def to_json(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return {"$float": str(value)}
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds") + "Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$binary": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if hasattr(value, "asDict"):  # pyspark Row
        return to_json(value.asDict(recursive=True))
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return to_json(value.tolist())
    return value


scope = {"__name__": "lakestream_worker", "to_json": to_json}
for line in sys.stdin:
    if not line.strip():
        continue
    request = json.loads(line)
    scope["args"] = request.get("args") or {}
    scope.pop("result", None)
    try:
        exec(compile(request["code"], "<snippet>", "exec"), scope)
        reply = {"id": request["id"], "ok": True, "result": to_json(scope.get("result"))}
    except BaseException as error:  # report everything, including SystemExit from a snippet
        reply = {"id": request["id"], "ok": False, "error": "".join(traceback.format_exception(error))}
    _reply.write(json.dumps(reply, allow_nan=False) + "\n")
    _reply.flush()
