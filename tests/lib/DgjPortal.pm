package DgjPortal;

# DgjPortal: a browser without a browser, for the HTTP tests of the public
# pages (tests/http/portal_*.t): a cookie jar, GET and form POSTs
# (urlencoded or multipart), reading the hidden tokens and answering the
# anti-automation question of lua/dgj/form.lua the way a person would.

use strict;
use warnings;
use utf8;

use Exporter 'import';
use Encode qw(encode_utf8 decode_utf8);
use DgjTest qw(base_url http);

our @EXPORT_OK = qw(new_visitor page_get page_post hidden answer_question
                    submit_form_fields PNG);

# a 1x1 PNG
use constant PNG => pack('H*',
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4'
    . '890000000d49444154789c6360f8cfc0f01f0005000201e2b0f6c50000000049'
    . '454e44ae426082');

my %DIGITS = ('一' => 1, '二' => 2, '三' => 3, '四' => 4, '五' => 5,
              '六' => 6, '七' => 7, '八' => 8, '九' => 9);


# A visitor: { cookies => { name => value }, src => source address }.
sub new_visitor {
    my $src = sprintf '127.%d.%d.%d', 1 + int(rand 254), int(rand 256),
                      1 + int(rand 254);
    return { cookies => {}, src => $src };
}


# each request from its own loopback address unless the visitor is pinned
# ({ pin => 1 }): the limit tests pin, the others must not run into the
# submission limit (6 a minute per address)
sub _http {
    my ($v) = @_;
    my $src = $v->{pin} ? $v->{src}
            : sprintf '127.%d.%d.%d', 1 + int(rand 254), int(rand 256),
                      1 + int(rand 254);
    return HTTP::Tiny->new(timeout => 20, keep_alive => 0, max_redirect => 0,
                           local_address => $src);
}


sub _remember {
    my ($v, $res) = @_;

    my $sc = $res->{headers}{'set-cookie'};
    for my $c (ref $sc ? @$sc : defined $sc ? ($sc) : ()) {
        $v->{cookies}{$1} = $2 if $c =~ /^([^=;\s]+)=([^;]*)/;
    }
}


sub _cookie_header {
    my ($v) = @_;
    return join '; ', map { "$_=$v->{cookies}{$_}" } sort keys %{ $v->{cookies} };
}


# page_get(V, PATH) -> (res, decoded HTML text)
sub page_get {
    my ($v, $path) = @_;

    my $res = _http($v)->get(base_url() . $path,
                             { headers => { Cookie => _cookie_header($v) } });
    _remember($v, $res);

    return ($res, decode_utf8($res->{content} // ''));
}


# page_post(V, PATH, [name => value, ...], FILES?) -> (res, HTML text);
# FILES: [ [field, filename, bytes], ... ] makes it multipart
sub page_post {
    my ($v, $path, $fields, $files) = @_;

    my %h = (Cookie => _cookie_header($v));
    my $body;

    if ($files) {
        my $b = 'dgjtest' . int(rand 1e9);
        $h{'Content-Type'} = "multipart/form-data; boundary=$b";
        $body = '';
        my @f = @$fields;
        while (@f) {
            my ($k, $val) = splice @f, 0, 2;
            $body .= "--$b\r\nContent-Disposition: form-data; name=\"$k\""
                   . "\r\n\r\n" . encode_utf8($val) . "\r\n";
        }
        for my $file (@$files) {
            my ($k, $name, $bytes) = @$file;
            $body .= "--$b\r\nContent-Disposition: form-data; name=\"$k\";"
                   . " filename=\"" . encode_utf8($name) . "\"\r\n"
                   . "Content-Type: application/octet-stream\r\n\r\n"
                   . $bytes . "\r\n";
        }
        $body .= "--$b--\r\n";
    } else {
        $h{'Content-Type'} = 'application/x-www-form-urlencoded';
        my @f = @$fields;
        my @pairs;
        while (@f) {
            my ($k, $val) = splice @f, 0, 2;
            push @pairs, _enc($k) . '=' . _enc($val);
        }
        $body = join '&', @pairs;
    }

    my $res = _http($v)->request('POST', base_url() . $path,
                                 { headers => \%h, content => $body });
    _remember($v, $res);

    return ($res, decode_utf8($res->{content} // ''));
}


sub _enc {
    my $s = encode_utf8($_[0] // '');
    $s =~ s/([^A-Za-z0-9\-_.~])/sprintf '%%%02X', ord $1/ge;
    return $s;
}


# hidden(HTML, NAME) -> the value of the hidden input NAME
sub hidden {
    my ($html, $name) = @_;
    return $1 if $html =~ /<input type="hidden" name="\Q$name\E" value="([^"]*)"/;
    return undef;
}


# answer_question(HTML) -> the sum the question asks for
sub answer_question {
    my ($html) = @_;
    return undef unless $html =~ /data-testid="captcha-question">(.)加(.)等于多少/;
    return $DIGITS{$1} + $DIGITS{$2};
}


# submit_form_fields(HTML, %values) -> the field list of a filled form
sub submit_form_fields {
    my ($html, %o) = @_;

    return [
        _csrf => hidden($html, '_csrf'),
        _cap => hidden($html, '_cap'),
        captcha => $o{captcha} // answer_question($html),
        category_code => '0301',
        district_code => '441900101',
        address => '石碣镇政府路 1 号',
        title => '夜间施工噪声扰民',
        content => '小区旁工地每天晚上十一点后仍在施工，影响休息。',
        name => '张三丰',
        phone => '13800138000',
        publish_consent => '1',
        website => '',
        %{ $o{fields} || {} },
    ];
}


1;
