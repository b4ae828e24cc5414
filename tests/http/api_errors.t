#!/usr/bin/perl

# api_errors.t: bad input to the JSON API gets a clear error with the one
# error shape {"error":{"code","message"},"request_id"}, and the request id
# the client sees in X-Request-Id is the one in the body and the worker log.

use strict;
use warnings;
use utf8;

use Test::More;
use DgjTest qw(get_json post_json request_json);

sub error_shape_ok {
    my ($res, $body, $status, $code, $id) = @_;

    is($res->{status}, $status, "$id: status $status");
    like($res->{headers}{'content-type'} // '', qr{^application/json},
         "$id: answered as JSON");
    is(ref $body eq 'HASH' && ref $body->{error} eq 'HASH'
       ? $body->{error}{code} : undef, $code, "$id: error code $code");
    ok(defined $body->{error}{message} && length $body->{error}{message},
       "$id: error has a message");
    is($body->{request_id}, $res->{headers}{'x-request-id'},
       "$id: body request_id equals the X-Request-Id header");
    unlike($res->{content}, qr/SELECT|INSERT|mysql|MariaDB|\.c:\d+/i,
           "$id: no SQL text or source location in the reply");
}

my ($res, $body) = get_json('/api/v1/no-such-thing');
error_shape_ok($res, $body, 404, 'not_found', 'err-1.1 unknown route');

($res, $body) = request_json('DELETE', '/api/v1/districts');
error_shape_ok($res, $body, 405, 'method_not_allowed', 'err-1.2 wrong method');
like($res->{headers}{allow} // '', qr/\bGET\b/,
     'err-1.2: Allow names the method the route takes');

($res, $body) = post_json('/api/v1/calendar/due', '{"from": "2026-09-30",, }');
error_shape_ok($res, $body, 400, 'invalid_json', 'err-1.3 malformed JSON');
like($body->{error}{message}, qr/\b(position|column)\b\D*\d+/,
     'err-1.3: the message names where the JSON broke');

($res, $body) = post_json('/api/v1/calendar/due', '[1, 2]');
error_shape_ok($res, $body, 400, 'invalid_json', 'err-1.4 not an object');

($res, $body) = post_json('/api/v1/calendar/due',
                          '{"from":"2026-09-30","from":"2026-10-01",'
                          . '"working_days":1}');
error_shape_ok($res, $body, 400, 'invalid_json', 'err-1.5 duplicate key');

($res, $body) = post_json('/api/v1/calendar/due',
                          { from => '2026-02-30', working_days => 3 });
error_shape_ok($res, $body, 400, 'invalid_field', 'err-1.6 impossible date');
like($body->{error}{message}, qr/from/, 'err-1.6: the message names the field');

($res, $body) = post_json('/api/v1/calendar/due',
                          { from => '2026-09-30', working_days => 0 });
error_shape_ok($res, $body, 400, 'invalid_field', 'err-1.7 zero days');
like($body->{error}{message}, qr/working_days/,
     'err-1.7: the message names the field');

($res, $body) = post_json('/api/v1/calendar/due',
                          { from => '2026-09-30', working_days => '3' });
error_shape_ok($res, $body, 400, 'invalid_field', 'err-1.8 string for number');

# The worker's own limit (256 KiB) is below the gateway's (1 MiB): both
# answer 413 in the one error shape.
my $pad = 'x' x (300 * 1024);
($res, $body) = post_json('/api/v1/calendar/due',
                          qq({"from":"2026-09-30","working_days":3,"p":"$pad"}));
error_shape_ok($res, $body, 413, 'payload_too_large',
               'err-2.1 body over the worker limit');

$pad = 'x' x (2 * 1024 * 1024);
($res, $body) = post_json('/api/v1/calendar/due',
                          qq({"from":"2026-09-30","working_days":3,"p":"$pad"}));
error_shape_ok($res, $body, 413, 'payload_too_large',
               'err-2.2 body over the gateway limit');

# A good request right after the bad ones still works: nothing is stuck.
($res, $body) = post_json('/api/v1/calendar/due',
                          { from => '2026-09-30', working_days => 3 });
is($res->{status}, 200, 'err-3.1: a valid request after bad ones succeeds');
is($body->{due}, '2026-10-10',
   'err-3.1: the due date skips the National Day holiday and counts the '
   . 'swapped Saturday');

# The request id reaches the worker's log line.
my $rid = $res->{headers}{'x-request-id'};
like($rid, qr/^[0-9a-f]{32}$/, 'err-4.1: X-Request-Id is nginx\'s $request_id');

($res, $body) = get_json('/api/v1/no-such-thing-either');
$rid = $res->{headers}{'x-request-id'};
my $log = "$ENV{DGJ_VAR}/log/fcgi/main.log";
my $found = DgjTest::wait_until(3, sub {
    open(my $fh, '<', $log) or return 0;
    local $/;
    my $text = <$fh>;
    return index($text, $rid) >= 0;
});
ok($found, 'err-4.2: the worker log line carries the request id');

my $access = "$ENV{DGJ_VAR}/log/nginx/access.log";
$found = DgjTest::wait_until(3, sub {
    open(my $fh, '<', $access) or return 0;
    local $/;
    my $text = <$fh>;
    return $text =~ /"request_id":"$rid".*"status":404/;
});
ok($found, 'err-4.3: the access log line carries the same request id');

done_testing();
