# Many paced downloads at once over HTTPS/1.1, each about 4 s (8 KB at
# 16 kbit/s, in dialup/tls/many/), each on its own TLS connection, on
# 2 children x 10 threads.
#
# Event: 500 at once.  mod_ssl sets no clogging input filter, so each
# download is suspended between pulses and holds no thread: all finish
# in about one download's time (held on the threads they would need
# 500 / 20 x 4 s = 200 s), every body exact, and server-status shows at
# once hundreds of them suspended and few busy workers.
#
# Worker and prefork: 10 (prefork: 3) at once, each holding its thread
# or process for its whole download (server-status counts them all
# busy), all exact.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTLS;

my $async = expect_async();
# Prefork starts 4 processes and forks more only gradually: 3 there.
my $n = $async ? 500 : mpm() eq 'prefork' ? 3 : 10;

plan tests => 5, need need_module('dialup'), need_module('ssl'),
                 need_module('status');

my $docroot = Apache::Test::vars('documentroot');
my $tport = conf_port('DIALUP_TLS_PORT');
my $rate = 16_000;

my $data = join '', map { sprintf "%07d mod_dialup test data\n", $_ } 0 .. 283;
$data = substr $data, 0, 8192;
t_write_file("$docroot/dialup/tls/many/8k.txt", $data);

# One download's time: body and about 250 bytes of headers at $rate.
my $ideal = (length($data) + 250) * 8 / $rate;
# Generous for a loaded machine: about 5 x one download, and a tenth of
# the time 500 downloads held on 20 threads would take.
my $bound = $async ? 20 : 3 * $ideal;

# server-status every 0.3 s from 0.6 s to 5.1 s, read by another
# process.  On a loaded machine the 500 handshakes take up to about 3 s,
# with every worker busy: the downloads are long enough that all of them
# are suspended for a while after that.
my $sampler = status_sampler(map { 0.6 + 0.3 * $_ } 0 .. 15);
my @res = parallel_tls_get($tport,
    [map { "/dialup/tls/many/8k.txt?tls$$-$_" } 1 .. $n], timeout => 90);
my @st = map { [$_->{suspended} =~ /^\d+$/ ? $_->{suspended} : 0,
                $_->{busy} =~ /^\d+$/ ? $_->{busy} : 0] }
             sampler_results($sampler);

my $ok = grep { $_->{status} == 200 && $_->{complete}
                && $_->{body} eq $data } @res;
my @errors = grep { defined } map { $_->{error} } @res;
my @done = sort { $a <=> $b } map { $_->{done} // 1e9 } @res;
my @first = sort { $a <=> $b } map { $_->{t_first} // 1e9 } @res;
t_debug(sprintf "%d of %d exact, first bytes after %.3f .. %.3f s, done "
        . "after %.3f .. %.3f s (median %.3f)", $ok, $n, $first[0],
        $first[-1], $done[0], $done[-1], $done[$#done / 2]);
t_debug('errors: ' . join '; ', @errors[0 .. ($#errors > 4 ? 4 : $#errors)])
    if @errors;
t_debug('server-status (ConnsAsyncSuspended/BusyWorkers): '
        . join ' ', map { "$_->[0]/$_->[1]" } @st);

ok t_cmp($ok, $n, "$n at once over TLS: 200, bodies exact");
ok t_cmp($done[0] >= 0.8 * $ideal ? 1 : 0, 1,
         sprintf "%d at once: paced (first done after %.3f s, one download "
         . "%.2f s)", $n, $done[0], $ideal);
ok t_cmp($done[-1] <= $bound ? 1 : 0, 1,
         sprintf "%d at once: all done within %.1f s (last after %.3f s)",
         $n, $bound, $done[-1]);

my ($smax) = sort { $b <=> $a } map { $_->[0] } @st;
my ($bmax) = sort { $b <=> $a } map { $_->[1] } @st;
if ($async) {
    # At least half of them suspended in one answer, with no more than
    # half of the 20 threads busy in it.
    my @free = grep { $_->[0] >= $n / 2 && $_->[1] <= 10 } @st;
    ok t_cmp(($smax || 0) >= $n / 2 ? 1 : 0, 1,
             "event: at least " . $n / 2 . " suspended at once (max "
             . ($smax || 0) . ')');
    ok t_cmp(@free ? 1 : 0, 1,
             'event: thread-free: an answer with at least ' . $n / 2
             . ' suspended and at most 10 busy workers ('
             . join(' ', map { "$_->[0]/$_->[1]" } @st) . ')');
}
else {
    # Each download holds a thread; BusyWorkers counts the one that
    # answers server-status too.
    ok t_cmp($smax || 0, 0, mpm() . ': nothing suspended');
    ok t_cmp(($bmax || 0) >= $n ? 1 : 0, 1,
             mpm() . ": each download holds a thread (BusyWorkers up to "
             . ($bmax || 0) . ", $n downloads)");
}
