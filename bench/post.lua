-- bench/post.lua — wrk script for bench/run.sh: POST one fixed body with fixed
-- headers, optionally a unique Idempotency-Key per request, and print one
-- machine-readable RESULT line at the end.
--   BENCH_BODY     file holding the request body (sent byte for byte)
--   BENCH_HEADERS  file of "Name: value" lines (e.g. the output of
--                  `webhook-runner sign`, Idempotency-Key removed)
--   BENCH_IDEM     when set: send "Idempotency-Key: $BENCH_IDEM-<thread>-<n>",
--                  unique per request as long as the prefix is new per run
local function slurp(path)
	local f = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
	local s = f:read("*a")
	f:close()
	return s
end

wrk.method = "POST"
wrk.body = slurp(os.getenv("BENCH_BODY"))
wrk.headers["Content-Type"] = "application/json"
for line in io.lines(os.getenv("BENCH_HEADERS")) do
	local name, value = line:match("^([^:]+):%s*(.-)%s*$")
	if name and name:lower() ~= "idempotency-key" then
		wrk.headers[name] = value
	end
end

local prefix = os.getenv("BENCH_IDEM")
local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

if prefix and prefix ~= "" then
	local n = 0
	function request()
		n = n + 1
		wrk.headers["Idempotency-Key"] = prefix .. "-" .. tostring(tid) .. "-" .. n
		return wrk.format()
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("RESULT requests=%d duration_us=%d non2xx=%d connect=%d read=%d "
		.. "write=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
		summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
		latency:percentile(50), latency:percentile(99), latency.max))
end
