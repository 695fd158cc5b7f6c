# mod_dialup over HTTPS/1.1 (the TLS virtual host of
# t/conf/ssl/dialup_tls.conf.in): a paced download is byte-exact, paced
# at the modem's rate, and arrives pulse by pulse as over plain HTTP:
# its first bytes after about one 200 ms pulse and no gap between two
# reads longer than $gap_bound, the same bound a plain-HTTP control
# download of the same file must meet.  Then keep-alive on the TLS
# connection after a paced response, a Range (206, paced) and a HEAD
# (not paced).
#
# The files are in dialup/tls/v92/ (V.92, 7,000 bytes a second, 1,400
# bytes a pulse: much less than mod_ssl's 8 KB coalescing buffer, so a
# pulse that stays in it shows as a gap).  A mod_dialup whose pulses
# stayed there (before 28a6aba) gave the first bytes after 1.23 s and
# then 8 KB every 1.2 s.  The file takes 4 s so that such bursts give
# gaps well over the bound.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use DialupTLS;
use IO::Socket::INET ();
use Time::HiRes qw(time sleep);

plan tests => 17, need need_module('dialup'), need_module('ssl');

my $rate = 56_000;              # V.92, bit/s
my $gap_bound = 0.7;            # seconds: 3.5 pulses
my $first_bound = 0.8;          # seconds, as in dialup.t
my $fast = 1.5;                 # seconds: "at once"
my $size = 28_000;              # 4 s at V.92
my $big = 70_000;               # 10 s at V.92
my $docroot = Apache::Test::vars('documentroot');
my $tport = conf_port('DIALUP_TLS_PORT');

my $data = content($size);
t_write_file("$docroot/dialup/tls/v92/body.txt", $data);
t_write_file("$docroot/dialup/tls/v92/big.txt", content($big));

my $none = { status => 0, headers => {}, body => '', reads => [] };

# --- a paced download over TLS, then another on the same connection ----------

my ($r1, $r2, $kept);
eval {
    my $sock = tls_socket($tport);
    $r1 = timed_get($sock, '/dialup/tls/v92/body.txt');
    $kept = !$r1->{eof} && ($r1->{headers}{connection} || '') !~ /close/i;
    $r2 = timed_get($sock, '/dialup/tls/v92/body.txt');
    close $sock;
};
t_debug("error: $@") if $@;
$r1 ||= $none;
$r2 ||= $none;
t_debug('TLS reads (s, bytes): '
        . join ' ', map { sprintf '%.3f:%d', @$_ } @{ $r1->{reads} });

ok t_cmp($r1->{status} == 200 && body_matches($r1->{body}, $data, 'TLS GET')
         ? 1 : 0, 1, 'TLS GET: 200, body exact');
paced_ok($r1, 'TLS GET', $rate);
my $tf = $r1->{t_first};
ok t_cmp(defined $tf && $tf <= $first_bound ? 1 : 0, 1,
         sprintf 'TLS GET: first bytes after about one pulse (%s s, limit '
         . '%.1f s)', defined $tf ? sprintf('%.3f', $tf) : 'never',
         $first_bound);
ok t_cmp($r1->{gap} <= $gap_bound ? 1 : 0, 1,
         sprintf 'TLS GET: largest gap between reads %.3f s (limit %.1f s, '
         . '%d reads)', $r1->{gap}, $gap_bound, scalar @{ $r1->{reads} });
ok t_cmp($kept ? 1 : 0, 1, 'TLS GET: connection kept alive');
ok t_cmp($r2->{status} == 200
         && body_matches($r2->{body}, $data, 'second TLS GET') ? 1 : 0, 1,
         'second GET on the same TLS connection: 200, body exact');
paced_ok($r2, 'second GET on the same TLS connection', $rate);

# --- the same file over plain HTTP: the bounds hold there --------------------

my $p = eval {
    my $sock = IO::Socket::INET->new(PeerAddr => host(), PeerPort => port(),
                                     Proto => 'tcp', Timeout => 10)
        or die "connect: $!\n";
    my $r = timed_get($sock, '/dialup/tls/v92/body.txt');
    close $sock;
    $r;
} || $none;
t_debug("error: $@") if $@;
ok t_cmp($p->{status} == 200 && body_matches($p->{body}, $data, 'plain GET')
         && defined $p->{t_first} && $p->{t_first} <= $first_bound ? 1 : 0, 1,
         sprintf 'plain HTTP control: 200, body exact, first bytes after '
         . '%s s', defined $p->{t_first} ? sprintf('%.3f', $p->{t_first})
                                          : 'never');
ok t_cmp($p->{gap} <= $gap_bound ? 1 : 0, 1,
         sprintf 'plain HTTP control: largest gap %.3f s (limit %.1f s, %d '
         . 'reads)', $p->{gap}, $gap_bound, scalar @{ $p->{reads} });

# --- a range ------------------------------------------------------------------

my $range = eval {
    my $sock = tls_socket($tport);
    my $r = timed_get($sock, '/dialup/tls/v92/body.txt',
                      headers => [Range => 'bytes=1000-8999']);
    close $sock;
    $r;
} || $none;
t_debug("error: $@") if $@;
ok t_cmp("$range->{status} " . ($range->{headers}{'content-range'} || ''),
         "206 bytes 1000-8999/$size", 'TLS Range: 206, Content-Range');
ok body_matches($range->{body}, substr($data, 1000, 8000), 'TLS Range');
paced_ok($range, 'TLS Range', $rate);

# --- HEAD goes out at once -----------------------------------------------------

my ($head, $quiet);
eval {
    my $c = tls_conn($tport);
    my $t0 = time;
    $c->send_request(HEAD => '/dialup/tls/v92/big.txt');
    $head = $c->read_response(head => 1, timeout => 15);
    $head->{took} = time - $t0;
    $quiet = $c->quiet_for(0.3);
    $c->disconnect;
};
t_debug("error: $@") if $@;
$head ||= $none;
ok t_cmp($head->{status}, 200, 'TLS HEAD: status');
ok t_cmp($head->{headers}{'content-length'}, $big, 'TLS HEAD: Content-Length');
ok t_cmp($head->{complete} && defined $head->{took} && $head->{took} < $fast
         ? 1 : 0, 1,
         sprintf 'TLS HEAD: at once (%s s, limit %.1f s; paced it would '
         . 'take %d s)', defined $head->{took}
             ? sprintf('%.3f', $head->{took}) : 'no answer', $fast,
         $big * 8 / $rate);
ok t_cmp($quiet ? 1 : 0, 1, 'TLS HEAD: no body');

# --- suspended on event --------------------------------------------------------

# While a download over TLS is paced, server-status counts it as
# suspended on event (mod_ssl sets no clogging input filter) and never
# elsewhere.  Each answer comes from either child: the largest of five.
my @susp;
eval {
    my $sock = tls_socket($tport);
    syswrite $sock, "GET /dialup/tls/v92/big.txt HTTP/1.1\r\n"
                  . "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
    for (1 .. 5) {
        sleep 0.3;
        push @susp, status_auto()->{ConnsAsyncSuspended} // 'none';
    }
    close $sock;
};
t_debug("error: $@") if $@;
t_debug("ConnsAsyncSuspended during a TLS download: @susp");
my ($smax) = sort { $b <=> $a } map { /^\d+$/ ? $_ : 0 } @susp;
if (expect_async()) {
    ok t_cmp(($smax || 0) >= 1 ? 1 : 0, 1,
             'event: a paced TLS download is suspended (ConnsAsyncSuspended '
             . 'up to ' . ($smax || 0) . ')');
}
else {
    ok t_cmp($smax || 0, 0, mpm() . ': nothing suspended');
}
