-- dgj.gzip: gzip (RFC 1952) compression of a whole string, through zlib
-- by LuaJIT's FFI (libz.so.1, which nginx itself links).  For a page
-- kept rendered per worker: compressed once when it is kept, sent to
-- every browser that accepts gzip, where nginx's gzip filter would
-- compress it again on every request.  Pure LuaJIT: no ngx API, so the
-- plain `luajit` CLI runs it in the unit tests.

local ffi = require "ffi"


local _M = { _VERSION = "0.1.0" }


local type = type
local tostring = tostring
local tonumber = tonumber
local ffi_new = ffi.new
local ffi_string = ffi.string


ffi.cdef [[
typedef struct dgj_z_stream_s {
    const unsigned char  *next_in;
    unsigned int          avail_in;
    unsigned long         total_in;
    unsigned char        *next_out;
    unsigned int          avail_out;
    unsigned long         total_out;
    const char           *msg;
    void                 *state;
    void                 *zalloc;
    void                 *zfree;
    void                 *opaque;
    int                   data_type;
    unsigned long         adler;
    unsigned long         reserved;
} dgj_z_stream;

const char *zlibVersion(void);
int deflateInit2_(dgj_z_stream *strm, int level, int method, int windowBits,
                  int memLevel, int strategy, const char *version,
                  int stream_size);
int deflate(dgj_z_stream *strm, int flush);
int deflateEnd(dgj_z_stream *strm);
unsigned long deflateBound(dgj_z_stream *strm, unsigned long sourceLen);
]]


local Z_OK = 0
local Z_STREAM_END = 1
local Z_FINISH = 4
local Z_DEFLATED = 8
local Z_DEFAULT_STRATEGY = 0

-- 15 bits of window, + 16: a gzip header and trailer instead of zlib's
local GZIP_WINDOW_BITS = 15 + 16
local MEM_LEVEL = 8

-- the best ratio: a kept page is compressed once and sent many times
local DEFAULT_LEVEL = 9


local ok_load, zlib = pcall(ffi.load, "libz.so.1")


-- Returns the gzip stream of string s at `level` (1..9, default 9), or
-- nil, err.
function _M.compress(s, level)
    if not ok_load then
        return nil, "cannot load zlib: " .. tostring(zlib)
    end

    if type(s) ~= "string" then
        return nil, "not a string"
    end

    local strm = ffi_new("dgj_z_stream")

    local rc = zlib.deflateInit2_(strm, level or DEFAULT_LEVEL, Z_DEFLATED,
                                  GZIP_WINDOW_BITS, MEM_LEVEL,
                                  Z_DEFAULT_STRATEGY, zlib.zlibVersion(),
                                  ffi.sizeof("dgj_z_stream"))
    if rc ~= Z_OK then
        return nil, "deflateInit2 failed: " .. rc
    end

    -- deflateBound is enough for one Z_FINISH call; 18 more for gzip's
    -- header and trailer, which the bound of a zlib stream leaves out
    local cap = tonumber(zlib.deflateBound(strm, #s)) + 18
    local out = ffi_new("unsigned char[?]", cap)

    strm.next_in = s
    strm.avail_in = #s
    strm.next_out = out
    strm.avail_out = cap

    rc = zlib.deflate(strm, Z_FINISH)
    local n = cap - strm.avail_out

    zlib.deflateEnd(strm)

    if rc ~= Z_STREAM_END then
        return nil, "deflate did not finish: " .. rc
    end

    return ffi_string(out, n)
end


-- the answers of accepted(), by header value: browsers send a few
-- values only, so a page asks the pattern once per value and worker
local MEMO_MAX = 64
local memo = {}
local memo_n = 0


local function parse_accepted(header)

    local lower = header:lower()
    local pos = 1

    while true do
        local s, e = lower:find("gzip", pos, true)
        if s == nil then
            return false
        end

        local before = s == 1 and "," or lower:sub(s - 1, s - 1)
        local rest = lower:sub(e + 1):match("^[ \t]*([^,]*)")

        if (before == "," or before == " " or before == "\t")
           and (rest == "" or rest:match("^;"))
        then
            local q = rest:match("^;[ \t]*q[ \t]*=[ \t]*([%d%.]+)")
            return q == nil or tonumber(q) ~= 0
        end

        pos = e + 1
    end
end


-- true when an Accept-Encoding header value accepts gzip: a "gzip" coding
-- not given q=0 (RFC 9110 12.5.3); "*" is not taken for it.
function _M.accepted(header)
    if type(header) ~= "string" then
        return false
    end

    local yes = memo[header]
    if yes ~= nil then
        return yes
    end

    yes = parse_accepted(header)

    if memo_n >= MEMO_MAX then
        memo, memo_n = {}, 0
    end

    memo[header] = yes
    memo_n = memo_n + 1

    return yes
end


return _M
