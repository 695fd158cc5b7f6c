# DialupLatency (issue 12): the first byte of a paced response leaves no
# earlier than one round trip after the request came, two on a new
# connection (the TCP handshake a real link would have had to make
# first), three on a new TLS connection (and its handshake).  300 ms in
# dialup/line/latency/ (t/conf/dialup_line.conf.in, 160k, per-client).
#
# Measured from when the client sent the request (no later than when it
# came): a new connection at least 0.6 s, the next request on it at least
# 0.3 s; over TLS (the virtual host of t/conf/ssl/dialup_tls.conf.in,
# skipped without mod_ssl) at least 0.9 s and then 0.3 s.  The upper
# bounds are 2 s more.  The 20 KB of the response then take about
# their paced time (1 s).  The access log's %{dialup-latency}n says what was applied:
# 300 ms on a kept-alive connection, 600 on a new one, 900 on a new TLS
# one (the tolerance stops short of the next multiple); %{dialup-line}n
# the address.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use IO::Socket::INET ();

my $have_tls = have_module('ssl') && eval { require DialupTLS; 1 };

plan tests => 16, need_module('dialup');

my $docroot = Apache::Test::vars('documentroot');
my $rtt = 0.3;
my $rate = 160_000;
my $data = content(20_000);
t_write_file("$docroot/dialup/line/latency/20k.txt", $data);
my $tag = "latency$$";
my $none = { status => 0, headers => {}, body => '', reads => [] };

# GET $tag-$what on the connected socket $sock, timed (timed_get() of
# DialupTLS.pm, which works on plain sockets too).
sub get {
    my ($sock, $what) = @_;
    return DialupTLS::timed_get($sock, "/dialup/line/latency/20k.txt?$tag-$what",
                                timeout => 20) if $have_tls;
    return plain_get($sock, $what);
}

# Without IO::Socket::SSL: the same on SuspendTest's client.
sub plain_get {
    my ($c, $what) = @_;
    $c->send_request(GET => "/dialup/line/latency/20k.txt?$tag-$what");
    my $r = $c->read_response(timeout => 20);
    $r->{t_first} = $r->{t_headers};
    return $r;
}

# Two requests on one new connection, plain HTTP or TLS ($tls_port).
sub two_on_one {
    my ($tls_port) = @_;
    my ($first, $again);
    eval {
        my $sock;
        if ($tls_port) {
            $sock = DialupTLS::tls_socket($tls_port);
        }
        elsif ($have_tls) {
            $sock = IO::Socket::INET->new(PeerAddr => host(),
                                          PeerPort => port(),
                                          Proto => 'tcp', Timeout => 10)
                or die "connect: $!\n";
        }
        else {
            $sock = SuspendTest::Conn->new;
        }
        my $p = $tls_port ? 'tls' : 'plain';
        $first = get($sock, "$p-new");
        $again = get($sock, "$p-again");
        ref $sock eq 'SuspendTest::Conn' ? $sock->disconnect : close $sock;
    };
    t_debug("error: $@") if $@;
    return ($first || $none, $again || $none);
}

# Checks of one response $r: exact, first byte within [$n RTT, $n RTT +
# 2 s], the rest paced after that.  Three checks.
sub latency_ok {
    my ($r, $name, $n) = @_;
    ok t_cmp($r->{status} == 200 && body_matches($r->{body}, $data, $name)
             ? 1 : 0, 1, "$name: 200, body exact");
    within_ok($r->{t_first}, $n * $rtt, $n * $rtt + 2,
              "$name: first byte after $n round trip" . ($n > 1 ? 's' : ''));
    # (The first pulse may go out at once: 0.7 times the paced time.)
    my $paced = wire($r) * 8 / $rate;
    within_ok($r->{elapsed}, $n * $rtt + 0.7 * $paced, undef,
              "$name: then paced");
}

my ($new, $again) = two_on_one();
latency_ok($new, 'new connection', 2);
latency_ok($again, 'the same connection again', 1);

my ($tnew, $tagain);
if ($have_tls) {
    my $tport = DialupTLS::conf_port('DIALUP_TLS_PORT');
    ($tnew, $tagain) = two_on_one($tport);
    latency_ok($tnew, 'new TLS connection', 3);
    latency_ok($tagain, 'the same TLS connection again', 1);
}
else {
    skip 'mod_ssl (or IO::Socket::SSL) missing: no TLS' for 1 .. 6;
}

# %{dialup-latency}n and %{dialup-line}n.
my %log = map { $_->{uri} =~ /-(\w+-\w+)$/ ? ($1 => $_) : () }
          line_log_of(qr/\?\Q$tag\E-/, $have_tls ? 4 : 2);
latency_note_ok($log{'plain-new'}, 2, 300, 'new connection');
latency_note_ok($log{'plain-again'}, 1, 300, 'the same connection again');
if ($have_tls) {
    latency_note_ok($log{'tls-new'}, 3, 300, 'new TLS connection');
}
else {
    skip 'no TLS';
}
ok t_cmp(join(' ', map { $log{$_} ? $log{$_}{line} : '-' }
                   qw(plain-new plain-again)), '127.0.0.1 127.0.0.1',
         '%{dialup-line}n: the address');
