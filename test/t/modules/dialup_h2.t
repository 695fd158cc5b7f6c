# mod_dialup over HTTP/2: over TLS (ALPN h2, the TLS virtual host of
# t/conf/ssl/dialup_tls.conf.in) and in clear text with prior knowledge
# (h2c, its second virtual host).  A paced stream cannot suspend (its
# connection has a master; see test/README.md for what holds a thread),
# so mod_dialup paces it on its h2 worker; the streams stay correct:
#
# - three paced streams on one connection: bodies exact, each paced,
#   first data after about one pulse, no gap longer than in dialup_tls.t;
#   nothing suspended meanwhile;
# - one stream cancelled (RST_STREAM) mid-download: it is logged at
#   once, the other stream of the connection completes exact and paced,
#   and the connection still serves;
# - the connection lost mid-download: both requests logged at once, no
#   socket, descriptor, suspended connection or download left;
# - h2c: the same stream exact and paced;
# - real clients: h2load (six streams on one connection) and curl.
#
# mod_http2 does not run under prefork: the file is skipped there.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use DialupTLS;
use Time::HiRes qw(time sleep);

my $h2load = `sh -c 'command -v h2load' 2>/dev/null`;
my $curl = `sh -c 'command -v curl' 2>/dev/null`;
chomp($h2load, $curl);

plan tests => 25, need need_module('dialup'), need_module('ssl'),
    need_module('http2'), need_module('status'),
    need({ 'mod_http2 does not run under prefork' => mpm() ne 'prefork' });

my $rate = 160_000;             # dialup/tls/rate/, bit/s
my $gap_bound = 0.7;            # as in dialup_tls.t
my $first_bound = 0.8;
my $docroot = Apache::Test::vars('documentroot');
my $t_logs = Apache::Test::vars('t_logs');
my $tport = conf_port('DIALUP_TLS_PORT');
my $cport = conf_port('DIALUP_H2C_PORT');

my $size = 20_000;              # 1 s at 160 kbit/s
my $data = content($size);
t_write_file("$docroot/dialup/tls/rate/h2.txt", $data);
my $big = 80_000;               # 4 s
my $big_data = content($big);
t_write_file("$docroot/dialup/tls/rate/h2big.txt", $big_data);

# A stream's body took about its bytes at $rate (bounds of paced_ok()).
sub stream_paced {
    my ($s) = @_;
    my $ideal = length($s->{body}) * 8 / $rate;
    my $t = $s->{t_end};
    return (defined $t && $t >= 0.8 * $ideal && $t <= 1.5 * $ideal + 0.5,
            sprintf '%s s for %d bytes, expected %.2f..%.2f s',
            defined $t ? sprintf('%.3f', $t) : 'never', length $s->{body},
            0.8 * $ideal, 1.5 * $ideal + 0.5);
}

sub dialup_line {
    my ($tag) = @_;
    my @l = log_lines("$t_logs/dialup_log", qr/ "GET [^ ]*\?\Q$tag\E HTTP/);
    return $l[0];
}

# --- three paced streams on one connection -------------------------------------

# server-status seven times while the streams are paced, from another
# process.
my $sampler = status_sampler(map { 0.3 + 0.1 * $_ } 0 .. 6);
my (@s, $own_active);
eval {
    my $h2 = DialupTLS::H2->new(port => $tport, tls => 1);
    my @ids = map { $h2->get("/dialup/tls/rate/h2.txt?three$$-$_") } 1 .. 3;
    # Half way, server-status on a fourth stream: answered by the child
    # that paces the three.
    $h2->run_until(time + 0.5, sub { 0 });
    my $sid = $h2->get('/server-status?auto');
    $h2->wait_streams(15, @ids, $sid);
    ($own_active) = $h2->stream($sid)->{body} =~ /^DialupActive: (\d+)$/m;
    @s = map { $h2->stream($_) } @ids;
    $h2->close;
};
t_debug("error: $@") if $@;
my @st = sampler_results($sampler);
t_debug('server-status during the streams (t suspended busy active): '
        . join ', ', map { "$_->{t} $_->{suspended} $_->{busy} $_->{active}" }
                         @st);
ok t_cmp(scalar(grep { ($_->{status} // '') eq '200'
                       && body_matches($_->{body}, $data, "stream $_->{id}") }
                     @s), 3, 'h2, three streams on one connection: 200, '
         . 'bodies exact');
my @paced = map { [stream_paced($_)] } @s;
ok t_cmp(scalar(grep { $_->[0] } @paced), 3,
         'h2, three streams: each paced (' . join('; ', map { $_->[1] }
                                                     @paced) . ')');
my @first = map { $_->{data}[0] ? $_->{data}[0][0] : undef } @s;
ok t_cmp(scalar(grep { defined && $_ <= $first_bound } @first), 3,
         'h2, three streams: first data after about one pulse ('
         . join(' ', map { defined ? sprintf('%.3f', $_) : 'never' } @first)
         . " s, limit $first_bound s)");
my @gaps = map { $_->{gap} // 99 } @s;
ok t_cmp(scalar(grep { $_ <= $gap_bound } @gaps), 3,
         'h2, three streams: largest gap between DATA frames ('
         . join(' ', map { sprintf '%.3f', $_ } @gaps)
         . " s, limit $gap_bound s)");
ok t_cmp(scalar(@st) && !grep({ $_->{suspended} =~ /^\d+$/
                                && $_->{suspended} > 0 } @st) ? 1 : 0, 1,
         'h2 streams are not suspended (ConnsAsyncSuspended: '
         . join(' ', map { $_->{suspended} } @st) . ')');
# The h2 connection keeps its MPM worker while it has open streams (the
# streams themselves run on h2 workers, which the scoreboard does not
# count); the request for server-status has one too.
ok t_cmp(scalar(@st) && !grep({ $_->{busy} !~ /^\d+$/ || $_->{busy} < 2 }
                              @st) ? 1 : 0, 1,
         'the h2 connection holds an MPM worker meanwhile (BusyWorkers: '
         . join(' ', map { $_->{busy} } @st) . ')');
ok t_cmp($own_active, 3, 'server-status on a fourth stream of the '
         . 'connection lists the three paced streams (DialupActive)');

# --- one stream cancelled --------------------------------------------------------

my ($sa, $sb, $c2, $t_cancel, $started, $logged);
my $after = 99;
eval {
    my $h2 = DialupTLS::H2->new(port => $tport, tls => 1);
    my $ida = $h2->get("/dialup/tls/rate/h2big.txt?rst$$-a");
    my $idb = $h2->get("/dialup/tls/rate/h2big.txt?rst$$-b");
    $sa = $h2->stream($ida);
    $sb = $h2->stream($idb);
    $started = $h2->run_until(time + 5, sub { length $sa->{body} >= 8_000 });
    $h2->cancel($ida);
    $t_cancel = time;
    # Serve the connection while waiting for the log line.
    $logged = $h2->run_until(time + 10, sub { dialup_line("rst$$-a") });
    $after = time - $t_cancel;
    $h2->wait_streams(15, $idb);
    my $idc = $h2->get("/dialup/tls/rate/h2.txt?rst$$-c");
    $h2->wait_streams(10, $idc);
    $c2 = $h2->stream($idc);
    $h2->close;
};
t_debug("error: $@") if $@;
ok t_cmp($started ? 1 : 0, 1, 'RST_STREAM: the stream had data before');
t_debug('dialup_log: ' . ($logged || 'none'));
ok t_cmp($logged && $after < 2 ? 1 : 0, 1,
         sprintf 'RST_STREAM: the cancelled request logged %.1f s after '
         . '(limit 2 s; its download takes 4 s)', $after);
ok t_cmp($sb && ($sb->{status} // '') eq '200'
         && body_matches($sb->{body}, $big_data, 'other stream') ? 1 : 0, 1,
         'RST_STREAM: the other stream of the connection: 200, body exact');
my ($bp, $bwhy) = $sb ? stream_paced($sb) : (0, 'no stream');
ok t_cmp($bp ? 1 : 0, 1, "RST_STREAM: the other stream paced ($bwhy)");
ok t_cmp($c2 && ($c2->{status} // '') eq '200'
         && body_matches($c2->{body}, $data, 'new stream') ? 1 : 0, 1,
         'RST_STREAM: a new stream on the same connection: 200, body exact');

# --- the connection lost ---------------------------------------------------------

wait_for(10, sub { !(port_sockets($tport)->{ESTABLISHED} || 0) });
my $base = fd_counts(child_pids());
my $base_sum = 0;
$base_sum += $_ for values %$base;
my ($lost, $t_lost);
eval {
    my $h2 = DialupTLS::H2->new(port => $tport, tls => 1);
    my @ids = map { $h2->get("/dialup/tls/rate/h2big.txt?lost$$-$_") } 1, 2;
    $lost = $h2->run_until(time + 5, sub {
        !grep { length $h2->stream($_)->{body} < 8_000 } @ids;
    });
    $h2->abort;
    $t_lost = time;
};
t_debug("error: $@") if $@;
ok t_cmp($lost ? 1 : 0, 1, 'connection lost: both streams had data before');
my $both = $t_lost && wait_for(10, sub {
    dialup_line("lost$$-1") && dialup_line("lost$$-2");
});
$after = $t_lost ? time - $t_lost : 99;
ok t_cmp($both && $after < 2 ? 1 : 0, 1,
         sprintf 'connection lost: both requests logged %.1f s after '
         . '(limit 2 s)', $after);
my $clean = wait_for(10, sub {
    my $p = port_sockets($tport);
    !($p->{ESTABLISHED} || 0) && !($p->{CLOSE_WAIT} || 0);
});
t_debug('TLS port sockets: ' . join ' ', %{ port_sockets($tport) });
ok t_cmp($clean ? 1 : 0, 1,
         'connection lost: no socket of the port left ESTABLISHED or in '
         . 'CLOSE_WAIT');
my $fds = wait_for(10, sub { fd_total($base) <= $base_sum });
ok t_cmp($fds && %$base ? 1 : 0, 1, "connection lost: descriptors of the "
         . "children back to $base_sum (now " . fd_total($base) . ')');
my $idle = wait_for(10, sub {
    !grep { my $v = status_auto();
            !defined $v->{DialupActive} || $v->{DialupActive} != 0
            || ($v->{ConnsAsyncSuspended} || 0) != 0 } 1 .. 4;
});
ok t_cmp($idle ? 1 : 0, 1,
         'connection lost: DialupActive and ConnsAsyncSuspended back to 0');

# --- h2c -------------------------------------------------------------------------

my $hc;
eval {
    my $h2 = DialupTLS::H2->new(port => $cport);
    my $id = $h2->get("/dialup/tls/rate/h2.txt?h2c$$");
    $h2->wait_streams(15, $id);
    $hc = $h2->stream($id);
    $h2->close;
};
t_debug("error: $@") if $@;
ok t_cmp($hc && ($hc->{status} // '') eq '200'
         && body_matches($hc->{body}, $data, 'h2c') ? 1 : 0, 1,
         'h2c: 200, body exact');
my ($cp, $cwhy) = $hc ? stream_paced($hc) : (0, 'no stream');
ok t_cmp($cp ? 1 : 0, 1, "h2c: paced ($cwhy)");
ok t_cmp($hc && ($hc->{gap} // 99) <= $gap_bound ? 1 : 0, 1,
         sprintf 'h2c: largest gap between DATA frames %.3f s (limit %.1f s)',
         $hc ? $hc->{gap} // 99 : 99, $gap_bound);

# --- real clients ----------------------------------------------------------------

my $url = "https://127.0.0.1:$tport/dialup/tls/rate/h2.txt";
if ($h2load) {
    my $cmd = "$h2load -n 6 -c 1 -m 6 -T 30 '$url' 2>&1";
    my $t0 = time;
    my $out = `$cmd`;
    my $took = time - $t0;
    t_debug($cmd, $out);
    my ($ok) = $out =~ /(\d+) succeeded/;
    my ($twoxx) = $out =~ /status codes:\s*(\d+) 2xx/;
    my ($bytes) = $out =~ /\((\d+)\) data/;
    my ($proto) = $out =~ /Application protocol: (\S+)/;
    ok t_cmp(($proto || '') eq 'h2' && ($ok || 0) == 6 && ($twoxx || 0) == 6
             ? 1 : 0, 1, 'h2load: 6 streams over h2, 6 succeeded with 2xx');
    ok t_cmp($bytes, 6 * $size, 'h2load: 6 bodies of ' . $size . ' bytes');
    my $ideal = $size * 8 / $rate;
    ok t_cmp($took >= 0.8 * $ideal && $took <= 1.5 * $ideal + 1 ? 1 : 0, 1,
             sprintf 'h2load: the streams paced side by side (%.3f s, '
             . 'expected %.2f..%.2f s)', $took, 0.8 * $ideal,
             1.5 * $ideal + 1);
}
else {
    skip 'h2load not installed' for 1 .. 3;
}
if ($curl) {
    my $file = "$t_logs/dialup_h2_curl.out";
    # -k: the test certificate names 127.0.0.1 only in its subject.
    my $out = `$curl -sk --http2 -o '$file' -w '%{http_version} %{http_code} %{time_total}' '$url?curl$$' 2>&1`;
    t_debug("curl: $out");
    my ($ver, $code, $t) = split ' ', $out;
    my $body = '';
    if (open my $fh, '<', $file) {
        local $/;
        $body = <$fh>;
    }
    unlink $file;
    ok t_cmp("$ver $code", '2 200', 'curl --http2: HTTP/2, 200');
    ok t_cmp(body_matches($body, $data, 'curl') && defined $t
             && $t >= 0.8 * $size * 8 / $rate ? 1 : 0, 1,
             "curl --http2: body exact, paced (" . ($t // 'no') . ' s)');
}
else {
    skip 'curl not installed' for 1 .. 2;
}
