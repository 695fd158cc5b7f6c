# Helpers shared by t/modules/dialup*.t: the content of the generated test
# files, the size of a response on the wire (what mod_dialup paces), and
# the server side's sockets of a port.

package DialupTest;

use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use Apache::TestUtil qw(t_cmp);
use SuspendTest qw(body_matches);

use Exporter 'import';
our @EXPORT = qw(content wire paced_ok unpaced_ok served_ok
                 server_sockets define_port served_twice_ok
                 error_log_since);

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

# The server side's TCP sockets on local port $port, from /proc/net/tcp:
# { client port => { state => 'ESTABLISHED' or the hex code, tx => bytes
# sent and not yet acknowledged } }.  A client port seen twice (an old
# connection in TIME_WAIT) gives its ESTABLISHED socket.
sub server_sockets {
    my $port = shift;
    my $hex = sprintf '%04X', $port;
    my %s;
    for my $file ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $file or next;
        <$fh>;
        while (<$fh>) {
            my (undef, $local, $remote, $st, $queues) = split;
            next unless defined $queues && $local =~ /:$hex$/
                && $remote =~ /:([0-9A-F]{4})$/;
            my $peer = hex $1;
            next if $s{$peer} && $s{$peer}{state} eq 'ESTABLISHED';
            my ($tx) = $queues =~ /^([0-9A-F]+):/;
            $s{$peer} = { state => $st eq '01' ? 'ESTABLISHED' : $st,
                          tx => hex $tx };
        }
    }
    return \%s;
}

# The port of a virtual host of ours: the value of "Define $name N" in the
# generated t/conf/*.conf.  Our virtual hosts are written so that
# Apache::Test leaves them alone (a "<VirtualHost module>" section gets a
# Listen on 0.0.0.0): "Define NAME @NextAvailablePort@", "Listen
# 127.0.0.1:${NAME}" and a lower-case "<virtualhost 127.0.0.1:${NAME}>".
sub define_port {
    my $name = shift;
    my $dir = Apache::Test::vars('t_conf');
    for my $conf (glob "$dir/*.conf") {
        open my $fh, '<', $conf or next;
        while (<$fh>) {
            return $1 if /^\s*Define\s+\Q$name\E\s+(\d+)\s*$/;
        }
    }
    die "no \"Define $name\" in $dir/*.conf\n";
}

# GET $path on a new keep-alive connection, then /health.txt on the same
# one.  The first response must be status $status with body $want, paced
# at $rate bit/s (at least 0.8 times the time its bytes take) if $paced,
# else in less than half that; the second must be answered.  Three checks.
sub served_twice_ok {
    my ($name, $path, $status, $want, $rate, $paced) = @_;
    my ($r, $again);
    eval {
        my $c = SuspendTest::Conn->new;
        $c->send_request(GET => $path);
        $r = $c->read_response(timeout => 40);
        $c->send_request(GET => '/health.txt');
        $again = $c->read_response(timeout => 20);
        $c->disconnect;
    };
    Apache::TestUtil::t_debug("$name: error: $@") if $@;
    $r ||= { status => 0, body => '', headers => {} };
    $again ||= { status => 0, body => '', headers => {} };
    Apache::TestUtil::t_debug("$name: $path: " . ($r->{error} || 'complete'));

    Apache::Test::ok(t_cmp($r->{status} == $status && $r->{complete}
                           && body_matches($r->{body}, $want, $name)
                           ? 1 : 0, 1,
                           "$name: $status, body exact (got $r->{status}, "
                           . length($r->{body}) . ' bytes)'));

    my $t = $r->{elapsed};
    # The expected body and the headers that came (none if none came).
    my $ideal = (length($want) + ($r->{status}
                                  ? wire({ %$r, status => 200 })
                                    - length $r->{body} : 0)) * 8 / $rate;
    my $took = defined $t ? sprintf('%.3f', $t) : 'no answer';
    my $ok = defined $t && $r->{complete}
             && ($paced ? $t >= 0.8 * $ideal : $t < 0.5 * $ideal);
    Apache::Test::ok(t_cmp($ok ? 1 : 0, 1, $paced
                           ? sprintf("%s: paced, %s s (at least %.2f s)",
                                     $name, $took, 0.8 * $ideal)
                           : sprintf("%s: not paced, %s s (less than "
                                     . "%.2f s)", $name, $took,
                                     0.5 * $ideal)));

    Apache::Test::ok(t_cmp($again->{status} == 200
                           && $again->{body} eq "healthy\n" ? 1 : 0, 1,
                           "$name: a second request on the same connection "
                           . "answered (got $again->{status}"
                           . ($again->{error} ? ", $again->{error}" : '')
                           . ')'));
}

# The lines of error log $elog from byte offset $start on that match $re,
# each also shown with t_debug.
sub error_log_since {
    my ($elog, $start, $re) = @_;
    my @lines;
    if (open my $fh, '<', $elog) {
        seek $fh, $start, 0;
        @lines = grep { /$re/ } <$fh>;
    }
    Apache::TestUtil::t_debug("error log: $_") for @lines;
    return @lines;
}

1;
