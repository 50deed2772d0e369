-- wrk script: every request is a new shopper liking one of products 1..$PRODUCTS (default 50),
-- so each is a 200. Used by scripts/bench.sh and the hang-up check (scripts/hangups.sh).
local products = tonumber(os.getenv("PRODUCTS") or "50")
-- Each wrk thread has its own Lua state: seed each one differently (its number and the
-- kernel's randomness), or every thread sends the same shoppers and gets 400s.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
function init(args)
  local f = io.open("/dev/urandom", "rb")
  local b1, b2, b3 = f:read(3):byte(1, 3)
  f:close()
  math.randomseed(os.time() + thread_number * 1000003 + b1 * 65536 + b2 * 256 + b3)
end
local function uuid()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx", "x",
    function() return string.format("%x", math.random(0, 15)) end))
end
request = function()
  local path = "/flask/api/products/" .. math.random(1, products) .. "/like"
  return wrk.format("POST", path, { ["Cookie"] = "shopper_id=" .. uuid() })
end
