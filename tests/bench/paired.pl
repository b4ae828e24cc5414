#!/usr/bin/perl
#
# tests/bench/paired.pl PAIRS ROUNDS LABEL KIND: the medians of a paired
# row.  PAIRS holds one line a round, the baseline's `rps` figures and
# then ours ("r/s p99 errors p50" each), from two runs back to back.
# Prints one line: each figure's median over the rounds, the medians of
# the rounds' r/s, p50 and p99 ratios, and the errors summed:
#
#   base_rs base_p50 base_p99 ours_rs ours_p50 ours_p99 rs p50 p99 errors
#
# and appends to ROUNDS what every round gave (KIND "rs": its r/s ratio,
# "latency": its p50 / p99 ratios), for the report under the table.  Why
# pairs: these machines are shared, and a run measures its neighbours as
# much as itself; two runs seconds apart see the same neighbours, and the
# median of many such pairs is what moves least from one `make bench` to
# the next.

use strict;
use warnings;

my ($pairs, $rounds, $label, $kind) = @ARGV;
die "usage: paired.pl PAIRS ROUNDS LABEL rs|latency\n"
    unless defined $kind && ($kind eq "rs" || $kind eq "latency");

sub median
{
    my @v = sort { $a <=> $b } @_;

    return 0 unless @v;
    return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

sub ratio
{
    my ($o, $b) = @_;

    return $b ? $o / $b : 0;
}

my (@rows, $errors);

open(my $in, "<", $pairs) or die "$pairs: $!\n";
while (<$in>) {
    my ($br, $bp, $be, $bm, $or, $op, $oe, $om) = split " ";
    next unless defined $om;
    $errors += $be + $oe;
    push @rows, [ $br, $bm, $bp, $or, $om, $op,
                  ratio($or, $br), ratio($om, $bm), ratio($op, $bp) ];
}
close($in);

die "$pairs: no rounds\n" unless @rows;

my @m = map { my $i = $_; median(map { $_->[$i] } @rows) } 0 .. 8;
printf "%.0f %.2f %.2f %.0f %.2f %.2f %.6f %.6f %.6f %d\n", @m, $errors // 0;

open(my $out, ">>", $rounds) or die "$rounds: $!\n";
if ($kind eq "rs") {
    printf $out "- %s: r/s ratio of each round: %s (median %.3f)\n", $label,
        join(", ", map { sprintf "%.3f", $_->[6] } @rows), $m[6];
} else {
    printf $out "- %s: p50 / p99 ratio of each round: %s"
                . " (median %.2f / %.2f)\n", $label,
        join(", ", map { sprintf "%.2f / %.2f", $_->[7], $_->[8] } @rows),
        $m[7], $m[8];
}
close($out);
