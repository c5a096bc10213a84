-- wrk script used by bench/bench.py for every load run.
--
-- The request is taken from the environment, so one script serves every
-- scenario and both servers get byte-identical requests:
--   WRK_METHOD  (default GET)
--   WRK_BODY    (optional request body)
--   WRK_CTYPE   (optional Content-Type header)
-- done() prints one machine-readable line, prefixed with @@BENCH@@, that
-- bench.py parses (latencies in microseconds, as wrk records them).

wrk.method = os.getenv("WRK_METHOD") or "GET"

local body = os.getenv("WRK_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
end

local ctype = os.getenv("WRK_CTYPE")
if ctype ~= nil and ctype ~= "" then
  wrk.headers["Content-Type"] = ctype
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '@@BENCH@@ {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
