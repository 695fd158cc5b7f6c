# Helpers shared by t/modules/dialup*.t: the content of the generated test
# files and the size of a response on the wire (what mod_dialup paces).

package DialupTest;

use strict;
use warnings FATAL => 'all';

use Exporter 'import';
our @EXPORT = qw(content wire);

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

1;
