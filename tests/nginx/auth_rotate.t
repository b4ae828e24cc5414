#!/usr/bin/perl

# auth_rotate.t: `stack.sh rotate-keys` (make rotate-keys) signs with a new
# key while tokens of the old one keep working; the ring stays 0640, with
# one signing key and at most three keys.

use strict;
use warnings;

use Test::More;
use DgjTest qw(base_url http stack);
use DgjAuth qw(keys_file mint);

sub ring {
    open(my $fh, '<', keys_file()) or die keys_file() . ": $!";
    my @keys = grep { !/^\s*(#|$)/ } <$fh>;
    close($fh);

    return @keys;
}

sub status_of {
    my ($tok) = @_;

    return http()->get(base_url() . '/api/v1/audit/x',
                       { headers => { Authorization => "Bearer $tok" } })
                 ->{status};
}

my $old = mint(user => 3, roles => 'auditor', ttl => 600);
my ($old_kid) = split /\./, $old;

isnt(status_of($old), 401, 'authrot-1.1: a token of the current key works');

ok(stack('rotate-keys'), 'authrot-1.2: rotate-keys succeeds');

my @keys = ring();
my @sign = grep { /\ssign\s*$/ } @keys;
my $new = mint(user => 3, roles => 'auditor', ttl => 600);
my ($new_kid) = split /\./, $new;

ok(@sign == 1 && @keys >= 2 && @keys <= 3,
   'authrot-1.3: one signing key, at most three keys');
isnt($new_kid, $old_kid, 'authrot-1.4: new tokens carry the new key id');
isnt(status_of($new), 401, 'authrot-1.5: ... and are accepted');
isnt(status_of($old), 401,
     'authrot-1.6: tokens of the previous key are still accepted');
is((stat(keys_file()))[2] & 07777, 0640, 'authrot-1.7: the ring stays 0640');

ok(stack('rotate-keys') && stack('rotate-keys'),
   'authrot-2.1: two more rotations');
is(scalar(ring()), 3, 'authrot-2.2: three keys are kept');
is(status_of($old), 401,
   'authrot-2.3: a key three rotations old is gone with its tokens');

done_testing();
