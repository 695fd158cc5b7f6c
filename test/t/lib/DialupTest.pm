# Helpers shared by t/modules/dialup*.t: the content of the generated test
# files and the size of a response on the wire (what mod_dialup paces).

package DialupTest;

use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use Apache::TestUtil qw(t_cmp);
use SuspendTest qw(body_matches);

use Exporter 'import';
our @EXPORT = qw(content wire paced_ok unpaced_ok served_ok);

# The first $n bytes of the test data: numbered 29-byte lines, so a
# misplaced byte shows where it came from.
sub content {
    my $n = shift;
    my $s = join '', map { sprintf "%07d mod_dialup test data\n", $_ }
                         0 .. int($n / 29) + 1;
    return substr $s, 0, $n;
}

my %reason = (200 => 'OK', 206 => 'Partial Content');

# The bytes of response $r on the wire: status line, headers, body.
sub wire {
    my $r = shift;
    my $n = length("HTTP/1.1 $r->{status} " . ($reason{$r->{status}} || '')
                   . "\r\n\r\n") + length $r->{body};
    $n += length("$_: $r->{headers}{$_}\r\n") for keys %{ $r->{headers} };
    return $n;
}

sub took {
    my $t = shift;
    return defined $t ? sprintf('%.3f', $t) : 'no answer';
}

# Response $r took about its bytes on the wire over $rate bit/s: between
# 0.8 and 1.5 times that, plus half a second.  One check.
sub paced_ok {
    my ($r, $name, $rate) = @_;
    my $ideal = wire($r) * 8 / $rate;
    my ($lo, $hi) = (0.8 * $ideal, 1.5 * $ideal + 0.5);
    my $t = $r->{elapsed};
    Apache::Test::ok(t_cmp(defined $t && $t >= $lo && $t <= $hi ? 1 : 0, 1,
                           sprintf "%s: paced at %d bit/s, %s s for %d bytes "
                           . "(expected %.2f..%.2f s)", $name, $rate,
                           took($t), wire($r), $lo, $hi));
}

# Response $r was not paced: it took less than $limit seconds.  One check.
sub unpaced_ok {
    my ($r, $name, $limit) = @_;
    my $t = $r->{elapsed};
    Apache::Test::ok(t_cmp(defined $t && $t < $limit ? 1 : 0, 1,
                           sprintf "%s: not paced, %s s (limit %.1f s)",
                           $name, took($t), $limit));
}

# Response $r is a 200 with body $data, paced at $rate bit/s, or not paced
# at all when $rate is 0 (at 160 kbit/s the test files would take a
# second).  Two checks.
sub served_ok {
    my ($r, $name, $data, $rate) = @_;
    Apache::Test::ok(t_cmp($r->{status} == 200
                           && body_matches($r->{body}, $data, $name)
                           ? 1 : 0, 1, "$name: 200, body exact"));
    if ($rate) {
        paced_ok($r, $name, $rate);
    }
    else {
        unpaced_ok($r, $name, 0.4);
    }
}

1;
