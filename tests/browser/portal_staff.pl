#!/usr/bin/perl

# tests/browser/portal_staff.pl: the staff side of the portal browser test
# (tests/browser/portal.mjs), through the API with minted tokens, as the
# HTTP tests do it (tests/lib/DgjWorkflow.pm).
#
#   portal_staff.pl reply NO     accept, dispatch, sign, reply, approve
#   portal_staff.pl publish NO   the reviewer publishes it (redacted text)
#
# Prints "ok" or dies with the failing step.

use strict;
use warnings;
use utf8;

use JSON::PP;
use DgjWorkflow qw(staff_token act dept_id);

my ($what, $no) = @ARGV;
die "usage: portal_staff.pl reply|publish NO\n"
    unless defined $no && $no =~ /^DG\d{14}$/;

my @steps;
my $reviewer = staff_token('reviewer');

if ($what eq 'reply') {
    my $intake = staff_token('intake');
    my $handler = staff_token('handler', 'city.ecology');
    @steps = ([ accept => $intake, {} ],
              [ dispatch => $intake,
                { department_id => dept_id('city.ecology') } ],
              [ sign => $handler, {} ],
              [ reply => $handler,
                { reply => '经现场核查，已责令工地夜间停止施工。',
                  outcome => 'resolved' } ],
              [ approve => $reviewer, {} ]);
} elsif ($what eq 'publish') {
    @steps = ([ publish => $reviewer,
                { publish => JSON::PP::true,
                  public_title => '工地夜间施工噪声扰民',
                  public_content => '某小区旁工地夜间施工，联系电话 13800138000。' } ]);
} else {
    die "unknown step $what\n";
}

for my $s (@steps) {
    my ($res) = act($no, @$s);
    die "$s->[0]: $res->{status} $res->{content}\n" unless $res->{status} == 200;
}

print "ok\n";
