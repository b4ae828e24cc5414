# Files attached to an appeal: the type is sniffed from the bytes (the
# client's Content-Type and file name count for nothing); only JPEG, PNG,
# GIF, WebP and PDF; 5 MiB; 5 per appeal; who may upload (the submitter
# signed in or by query code within the hour, intake, the lead
# department's handler) and who may read; hostile file names; what lands
# on disk (content-addressed, nothing for a refused upload) and what a
# download carries.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Find;
use JSON::PP;
use DgjTest qw(sql request_json spread_sources);
use DgjLogin qw(api clock_offset set_clock_offset);
use DgjAuth qw(mint);
use DgjWorkflow qw(submission submit staff_token dept_id act walk_to);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

spread_sources();

my $files = "$ENV{DGJ_VAR}/files";
my $MiB = 1024 * 1024;

# bytes of each kind: a real signature, then filler that differs per call
my $serial = 0;
sub filler { return join '', map { chr(($_ * 7 + $serial) % 256) } 1 .. 200 }

my %kind = (
    jpeg => sub { "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" . filler() . "\xff\xd9" },
    png  => sub { "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" . filler() },
    gif  => sub { "GIF89a\x01\x00\x01\x00\x80\x00\x00" . filler() . ';' },
    webp => sub { my $b = 'WEBPVP8 ' . filler();
                  'RIFF' . pack('V', length $b) . $b },
    pdf  => sub { "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" . filler() . "\n%%EOF\n" },
);

sub bytes_of { $serial++; return $kind{$_[0]}->() }

# upload(NO, BYTES, %opt: name, token, code, type) -> (res, decoded)
sub upload {
    my ($no, $bytes, %o) = @_;

    my %h = ('Content-Type' => $o{type} // 'application/octet-stream');
    $h{'X-File-Name'} = $o{name} if defined $o{name};
    $h{'X-Query-Code'} = $o{code} if defined $o{code};
    $h{Authorization} = "Bearer $o{token}" if defined $o{token};

    return request_json('POST', "/api/v1/appeals/$no/attachments", $bytes,
                        \%h);
}

sub download {
    my ($no, $id, $token) = @_;

    return request_json('GET', "/api/v1/appeals/$no/attachments/$id", undef,
                        defined $token ? { Authorization => "Bearer $token" }
                                       : {});
}

# every stored file under var/files (not the temporary directory)
sub stored_files {
    my %f;
    find({ no_chdir => 1, wanted => sub {
        $f{$File::Find::name} = -s $_ if -f $_ && !m{/tmp/};
    } }, $files) if -d $files;

    return \%f;
}

sub rows_of {
    my ($no) = @_;

    my ($n) = sql('admin', 'SELECT COUNT(*) FROM appeal_attachments t'
                  . " JOIN appeals a ON a.id = t.appeal_id"
                  . " WHERE a.tracking_no = '$no'");

    return $n->[0];
}

sub code_of { return $_[1]{error}{code} // '' }

# a name as X-File-Name carries it: UTF-8, every byte percent-encoded
sub enc_name {
    my ($s) = @_;

    utf8::encode($s);

    return join '', map { sprintf '%%%02X', ord } split //, $s;
}

# a citizen account and its token (the row: attachments name their user)
sub new_citizen {
    my ($row) = sql('admin', "INSERT INTO users (kind, display_name,"
                    . " created_at, updated_at) VALUES ('citizen',"
                    . " '测试市民', NOW(), NOW()); SELECT LAST_INSERT_ID()");

    return ($row->[0], mint(user => $row->[0], roles => 'citizen',
                            ttl => 3600, level => 1));
}


# --- an anonymous portal submission, attaching by its query code ---------

my ($res, $b) = submit();
is($res->{status}, 201, 'att-0.1: an anonymous appeal is submitted')
    or diag $res->{content};
my ($anon, $code) = ($b->{tracking_no}, $b->{query_code});

my %want = (jpeg => 'image/jpeg', png => 'image/png', gif => 'image/gif',
            webp => 'image/webp', pdf => 'application/pdf');
my (%sent, %id);

for my $k (qw(jpeg gif webp pdf)) {
    $sent{$k} = bytes_of($k);
    ($res, $b) = upload($anon, $sent{$k}, code => $code, name => "file.$k",
                        type => 'text/html');
    is($res->{status}, 201, "att-1.1: a $k file is accepted by its bytes"
                            . ' (claimed text/html)') or diag $res->{content};
    is($b->{media_type}, $want{$k}, "att-1.2: ... and stored as $want{$k}");
    is($b->{size}, length $sent{$k}, 'att-1.3: ... with its size');
    is($b->{sha256}, sha256_hex($sent{$k}), 'att-1.4: ... and its SHA-256');
    $id{$k} = $b->{id};
}

is($res->{headers}{location}, "/api/v1/appeals/$anon/attachments/$id{pdf}",
   'att-1.5: 201 names the new file in Location');

$sent{png} = bytes_of('png');
($res, $b) = upload($anon, $sent{png}, code => lc $code, name => 'scan.pdf',
                    type => 'application/pdf');
is($res->{status}, 201, 'att-1.6: a PNG named scan.pdf and sent as PDF'
                        . ' (code in lower case) is accepted');
is($b->{media_type}, 'image/png', 'att-1.7: ... and stored as image/png');
is($b->{name}, 'scan.pdf', 'att-1.8: ... keeping the name given');
is($b->{uploaded_role}, 'citizen', 'att-1.9: ... uploaded as the citizen');
$id{png} = $b->{id};

my ($by) = sql('admin', 'SELECT COUNT(*) FROM appeal_attachments t JOIN'
               . " appeals a ON a.id = t.appeal_id WHERE a.tracking_no ="
               . " '$anon' AND t.uploaded_by IS NULL AND t.media_type ="
               . " 'image/png'");
is($by->[0], 1, 'att-1.10: an upload by query code names no user');

my $hex = sha256_hex($sent{png});
my $path = "$files/" . substr($hex, 0, 2) . '/' . substr($hex, 2, 2)
           . "/$hex";
ok(-f $path, 'att-1.11: the bytes are stored under var/files by SHA-256');
is(sprintf('%04o', (stat $path)[2] & 07777), '0600',
   'att-1.12: ... readable by the workers only');

my $before = stored_files();
($res, $b) = upload($anon, bytes_of('jpeg'), code => $code, name => '6.jpg');
is($res->{status}, 409, 'att-1.13: the 6th attachment is refused (409)');
is(code_of($res, $b), 'attachment_limit', 'att-1.14: ... attachment_limit');
is(rows_of($anon), 5, 'att-1.15: ... and the appeal keeps 5');
is_deeply(stored_files(), $before, 'att-1.16: ... and no file was written');

($res, $b) = upload($anon, $sent{gif}, code => $code, name => 'again.gif');
is($res->{status}, 200, 'att-1.17: the same bytes again (a retry) answer'
                        . ' 200 ...');
is($b->{id}, $id{gif}, 'att-1.18: ... with the first row, not a 6th');

# --- the query code: wrong, absent, late -----------------------------------

($res, $b) = upload($anon, bytes_of('jpeg'), code => 'ZZZZZZ');
is($res->{status}, 404, 'att-2.1: a wrong query code is refused like an'
                        . ' unknown number (404)');
($res, $b) = upload($anon, bytes_of('jpeg'));
is($res->{status}, 401, 'att-2.2: neither signed in nor a code: 401');
($res, $b) = upload('DG20990101999999', bytes_of('jpeg'), code => $code);
is($res->{status}, 404, 'att-2.3: an unknown tracking number: 404');

my ($r2, $b2) = submit();
my ($late, $late_code) = ($b2->{tracking_no}, $b2->{query_code});
my $offset = clock_offset();
set_clock_offset($offset + 3601);
($res, $b) = upload($late, bytes_of('jpeg'), code => $late_code);
my ($st, $cd) = ($res->{status}, code_of($res, $b));
set_clock_offset($offset);
is($st, 403, 'att-2.4: by query code, more than an hour after submission:'
             . ' 403');
is($cd, 'code_upload_closed', 'att-2.5: ... code_upload_closed');
is(rows_of($late), 0, 'att-2.6: ... nothing stored');
($res, $b) = upload($late, bytes_of('jpeg'), code => $late_code);
is($res->{status}, 201, 'att-2.7: within the hour the same code works');

{
    # guessing codes is rate limited per client address
    local $DgjTest::SPREAD = 0;
    my %seen;
    for (1 .. 14) {
        ($res) = upload($late, bytes_of('jpeg'), code => 'ABCDEF');
        $seen{$res->{status}}++;
    }
    ok($seen{429}, 'att-2.8: guessing query codes from one address is'
                   . ' rate limited (429)') or diag explain \%seen;
}

# --- refused payloads: nothing on disk, nothing in the database -----------

my ($cit_id, $cit) = new_citizen();
($res, $b) = submit(submission(), $cit);
is($res->{status}, 201, 'att-3.0: a signed-in citizen submits')
    or diag $res->{content};
my $mine = $b->{tracking_no};

my %bad = (
    html => ["<!DOCTYPE html><html><script>alert(document.cookie)</script>",
             'photo.png', 'image/png'],
    svg  => ['<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"'
             . ' onload="alert(1)"/>', 'map.svg', 'image/svg+xml'],
    exe  => ["MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" . filler(),
             'invoice.pdf', 'application/pdf'],
);

$before = stored_files();
for my $k (sort keys %bad) {
    my ($bytes, $name, $type) = @{ $bad{$k} };
    ($res, $b) = upload($mine, $bytes, token => $cit, name => $name,
                        type => $type);
    is($res->{status}, 415, "att-3.1: a $k payload named $name is refused"
                            . ' (415)');
    is(code_of($res, $b), 'unsupported_type', 'att-3.2: ... unsupported_type');
    like($b->{error}{message} // '', qr/JPEG, PNG, GIF.*PDF/,
         'att-3.3: ... the message says what is accepted');
}

($res, $b) = upload($mine, '', token => $cit, name => 'empty.pdf');
is($res->{status}, 400, 'att-3.4: an empty body is refused (400)');

my $big = "%PDF-1.7\n" . ('x' x (5 * $MiB - 9));
($res, $b) = upload($mine, $big . 'x', token => $cit, name => 'big.pdf');
is($res->{status}, 413, 'att-3.5: 5 MiB + 1 byte is refused (413)');
is(code_of($res, $b), 'payload_too_large', 'att-3.6: ... payload_too_large');
like($b->{error}{message} // '', qr/5 MiB/, 'att-3.7: ... naming 5 MiB');

is(rows_of($mine), 0, 'att-3.8: none of them left a row');
is_deeply(stored_files(), $before, 'att-3.9: ... nor a file on disk');
ok(!grep({ -f $_ } glob("$files/tmp/*")),
   'att-3.10: ... nor a temporary file');

($res, $b) = upload($mine, $big, token => $cit, name => 'big.pdf');
is($res->{status}, 201, 'att-3.11: exactly 5 MiB is accepted')
    or diag $res->{content};
is($b->{size}, 5 * $MiB, 'att-3.12: ... all of it');
my $big_id = $b->{id};

# --- file names -------------------------------------------------------------

for my $case (['..%2F..%2Fetc%2Fpasswd.png', 'an encoded ../'],
              ['../../x.png', 'a plain ../'],
              ['dir%5Cx.png', 'a backslash'],
              ['a%0D%0AX-Injected:%201.png', 'an encoded CRLF'],
              ['a%00.png', 'an encoded NUL'],
              ['photo%E2%80%AEgpj.exe', 'a right-to-left override'],
              ['%2E%2E', '".."'],
              ['x' x 201, '201 characters'])
{
    my ($name, $what) = @$case;
    ($res, $b) = upload($mine, bytes_of('png'), token => $cit,
                        name => $name);
    is($res->{status}, 400, "att-4.1: a file name with $what is refused");
    is(code_of($res, $b), 'invalid_file_name',
       'att-4.2: ... invalid_file_name');
}

is(rows_of($mine), 1, 'att-4.3: none of them stored anything');

my $quoted = bytes_of('jpeg');
($res, $b) = upload($mine, $quoted, token => $cit,
                    name => 'say%20%22hi%22%3B%20x%3D1.jpg');
is($res->{status}, 201, 'att-4.4: a name with quotes and ; is accepted');
is($b->{name}, 'say "hi"; x=1.jpg', 'att-4.5: ... as given');
my $quoted_id = $b->{id};

my $cn = '现场照片' x 50;
my $cjk = bytes_of('png');
($res, $b) = upload($mine, $cjk, token => $cit, name => enc_name($cn));
is($res->{status}, 201, 'att-4.6: a 200-character Chinese name is accepted')
    or diag $res->{content};
is($b->{name}, $cn, 'att-4.7: ... decoded from UTF-8');
my $cjk_id = $b->{id};

# --- downloads ----------------------------------------------------------------

($res) = download($mine, $quoted_id, $cit);
is($res->{status}, 200, 'att-5.1: the submitter downloads the file');
is($res->{content}, $quoted, 'att-5.2: ... the same bytes');
is($res->{headers}{'content-type'}, 'image/jpeg',
   'att-5.3: ... as the sniffed type');
is($res->{headers}{'content-disposition'},
   q{attachment; filename="say _hi__ x_1.jpg";}
   . q{ filename*=UTF-8''say%20%22hi%22%3B%20x%3D1.jpg},
   'att-5.4: ... as an attachment, the name safely encoded (RFC 5987)');
is($res->{headers}{'x-content-type-options'}, 'nosniff',
   'att-5.5: ... with X-Content-Type-Options: nosniff, once');
is($res->{headers}{'cache-control'}, 'private, no-store',
   'att-5.6: ... and Cache-Control: private, no-store');
like($res->{headers}{'content-security-policy'} // '', qr/sandbox/,
     'att-5.7: ... and a sandboxing CSP');

($res) = download($mine, $cjk_id, $cit);
is($res->{status}, 200, 'att-5.9: a file with a 200-character Chinese name'
                        . ' downloads');
is($res->{headers}{'content-disposition'},
   'attachment; filename="' . ('_' x 200) . "\"; filename*=UTF-8''"
   . enc_name($cn),
   'att-5.10: ... its name whole in filename*');
is($res->{content}, $cjk, 'att-5.11: ... the same bytes');

($res) = download($mine, $big_id, $cit);
is(length($res->{content}), 5 * $MiB, 'att-5.12: the 5 MiB file comes back'
                                      . ' whole');
ok($res->{content} eq $big, 'att-5.13: ... byte for byte');

my $intake = staff_token('intake');
($res) = download($mine, $quoted_id, $intake);
is($res->{status}, 200, 'att-5.14: intake downloads it too');

($res) = download($mine, $quoted_id);
is($res->{status}, 401, 'att-5.15: anonymous: 401, even with the number');

my (undef, $other_cit) = new_citizen();
($res) = download($mine, $quoted_id, $other_cit);
is($res->{status}, 404, 'att-5.16: another citizen: 404');
($res, $b) = upload($mine, bytes_of('png'), token => $other_cit);
is($res->{status}, 404, 'att-5.17: ... who cannot upload either (404)');

($res) = download($mine, $id{png}, $cit);
is($res->{status}, 404, 'att-5.18: an attachment of another appeal: 404');

($res) = download($anon, $id{png}, $intake);
is($res->{status}, 200, 'att-5.19: intake reads the anonymous appeal\'s'
                        . ' PNG named .pdf ...');
is($res->{headers}{'content-type'}, 'image/png', 'att-5.20: ... as a PNG');

($res, $b) = api('GET', "/api/v1/appeals/$mine/attachments", undef, $cit);
is($res->{status}, 200, 'att-5.21: the submitter lists the attachments');
is($b->{count}, 3, 'att-5.22: ... 3 of them');
ok(!grep({ exists $_->{uploaded_by} } @{ $b->{items} || [] }),
   'att-5.23: ... naming no uploader\'s account');

# --- staff: intake, the lead department, another department ----------------

my $no = walk_to('dispatched');
my $lead = staff_token('handler', 'city.ecology');
my ($other_dept) = sql('admin', "SELECT code FROM departments WHERE code"
                       . " <> 'city.ecology' AND kind = 'city' LIMIT 1");
my $stranger = staff_token('handler', $other_dept->[0]);

($res, $b) = upload($no, bytes_of('pdf'), token => $lead,
                    name => enc_name('现场核查.pdf'));
is($res->{status}, 201, 'att-6.1: the lead department\'s handler uploads')
    or diag $res->{content};
is($b->{uploaded_role}, 'handler', 'att-6.2: ... recorded as handler');
my $lead_file = $b->{id};

($res, $b) = upload($no, bytes_of('jpeg'), token => $intake);
is($res->{status}, 201, 'att-6.3: intake uploads');
is($b->{uploaded_role}, 'intake', 'att-6.4: ... recorded as intake');
is($b->{name}, 'attachment.jpg', 'att-6.5: no X-File-Name: a name from the'
                                 . ' type');

($res, $b) = upload($no, bytes_of('jpeg'), token => $stranger);
is($res->{status}, 404, 'att-6.6: another department\'s handler cannot'
                        . ' upload (404)');
($res) = download($no, $lead_file, $stranger);
is($res->{status}, 404, 'att-6.7: ... nor download (404)');
($res) = download($no, $lead_file, $lead);
is($res->{status}, 200, 'att-6.8: the lead department downloads');

($res, $b) = upload($no, bytes_of('jpeg'), token => staff_token('reviewer'));
is($res->{status}, 403, 'att-6.9: a reviewer sees the appeal but does not'
                        . ' attach (403)');

my ($r3, $b3) = submit();
my $gone = $b3->{tracking_no};
($res) = act($gone, 'reject', $intake, { reason_code => 'out_of_scope',
                                         comment => '不属于受理范围' });
is($res->{status}, 200, 'att-7.0: intake rejects an appeal')
    or diag $res->{content};
($res, $b) = upload($gone, bytes_of('jpeg'), token => $intake);
is($res->{status}, 409, 'att-7.1: nothing is attached to a final appeal'
                        . ' (409)');
is(code_of($res, $b), 'appeal_final', 'att-7.2: ... appeal_final');
($res, $b) = upload($gone, bytes_of('jpeg'), code => $b3->{query_code});
is($res->{status}, 409, 'att-7.3: ... not by its query code either');

done_testing();
