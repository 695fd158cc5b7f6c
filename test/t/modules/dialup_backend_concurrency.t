# 500 paced dynamic responses at once (issue 11), each 20 KB at 160k
# (about 1 s), each on its own connection, on 2 children x 10 threads
# (prefork: 20 processes; t/conf/httpd.conf.in), in two rounds:
#
# - proxied: mod_proxy_http to the backend virtual host of
#   t/conf/dialup_backend.conf.in serving a static file
#   (/dialup/backend/fast/).  500 on event only: elsewhere each paced
#   download holds its thread, and the backend is this same server, so
#   that with every thread held by a front waiting for its backend
#   nothing is left to serve the backends (500 there once took over 60 s,
#   with timeouts); 10 at once there, half the threads.
# - PHP: mod_proxy_fcgi to a php-fpm of the test's own (4 children; see
#   dialup_backend_php.t), whose script prints the 20 KB; 500 on every
#   MPM.  Skipped when php-fpm is not installed (Debian: php-fpm) or does
#   not start.
#
# Each round: all answered 200, complete and byte-exact; paced (none done
# before 0.8 x one download's time); all done within a bound (event 20 s;
# elsewhere 60 s, where 500 downloads held 1 s each on 20 threads take
# 25 s, less when those that waited for a thread make up for the wait,
# their schedule starting when they arrived, see dialup_arrival.t).  On
# event the handlers hand the rest to timers: server-status shows, in one
# answer, at least 250 connections suspended with at most 10 busy
# workers.  Afterwards the server is back to its baseline (descriptors,
# sockets, suspended connections, DialupActive).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use DialupBackend;
use Time::HiRes qw(time);

my $rate = 160_000;
my $size = 20_000;
my $async = expect_async();
my $bound = $async ? 20 : 60;

my ($fpm, $why) = (undef, 'mod_proxy_fcgi is not loaded');
($fpm, $why) = start_fpm(define_port('DIALUP_FPM_LISTEN'))
    if Apache::Test::have_module('proxy_fcgi')
       && Apache::Test::have_module('dialup');

# [name, URL, how many at once, why skipped]
my @rounds = (['proxied', '/dialup/backend/fast/20k.txt?c=%d',
               $async ? 500 : 10, undef],
              ['PHP', "/dialup/backend/php/gen.php?n=$size&c=%d", 500,
               $fpm ? undef : $why]);
plan tests => 5 * @rounds + ($async ? 3 : 2) + 2,
    need need_module('dialup'), need_module('proxy_http'),
         need_module('status');

my $docroot = Apache::Test::vars('documentroot');
my $data = content($size);
t_write_file("$docroot/dialup/backend/origin/20k.txt", $data);
t_write_file("$docroot/dialup/backend/php/gen.php", php_script());

# One download's time: body and about 200 bytes of headers at $rate.
my $ideal = ($size + 200) * 8 / $rate;

my $quiet = quiet_server();

for my $round (@rounds) {
    my ($name, $fmt, $n, $skip) = @$round;
    if ($skip) {
        skip "$name: $skip" for 1 .. 5;
        next;
    }
    # server-status from 0.3 s to 1.2 s (the downloads take about 1 s
    # from their arrival; their handlers are done in a fraction of it).
    my @st;
    my @res = parallel_get([map { sprintf $fmt, $_ } 1 .. $n],
        timeout => $bound + 30,
        at => $async ? [map { [0.3 + 0.15 * $_, sub {
            my $s = status_auto();
            push @st, [map { /^\d+$/ ? $_ : -1 }
                       map { $s->{$_} // 'none' }
                       qw(ConnsAsyncSuspended BusyWorkers)];
        }] } 0 .. 6] : []);

    my $ok = grep { $_->{status} == 200 && $_->{complete}
                    && $_->{body} eq $data } @res;
    my %err;
    $err{ $_->{error} || "status $_->{status}"
          . ($_->{complete} ? '' : ', incomplete')
          . ($_->{body} eq $data ? '' : ', body differs') }++
        for grep { !($_->{status} == 200 && $_->{complete}
                     && $_->{body} eq $data) } @res;
    my @done = sort { $a <=> $b } map { $_->{done} // 1e9 } @res;
    t_debug(sprintf "%s: %d of %d exact, done after %.3f .. %.3f s (median "
            . "%.3f); errors: %s", $name, $ok, $n, $done[0], $done[-1],
            $done[$#done / 2],
            join(', ', map { "$_ x$err{$_}" } sort keys %err) || 'none');
    ok t_cmp($ok, $n, "$name: $n at once: 200, bodies exact (failures: "
             . (join(', ', map { "$_ x$err{$_}" } sort keys %err) || 'none')
             . ')');
    ok t_cmp($done[0] >= 0.8 * $ideal ? 1 : 0, 1,
             sprintf "%s: paced (first done after %.3f s, one download "
             . "%.2f s)", $name, $done[0], $ideal);
    ok t_cmp($done[-1] <= $bound ? 1 : 0, 1,
             sprintf "%s: all done within %d s (last after %.3f s)", $name,
             $bound, $done[-1] > 1e8 ? -1 : $done[-1]);
    if ($async) {
        my $seen = join ' ', map { "$_->[0]/$_->[1]" } @st;
        t_debug("$name: server-status (ConnsAsyncSuspended/BusyWorkers): "
                . $seen);
        my ($smax) = sort { $b <=> $a } map { $_->[0] } @st;
        my @free = grep { $_->[0] >= $n / 2 && $_->[1] >= 0
                          && $_->[1] <= 10 } @st;
        ok t_cmp(($smax || 0) >= $n / 2 ? 1 : 0, 1,
                 "$name: event: at least " . $n / 2 . ' suspended at once '
                 . '(max ' . ($smax || 0) . ')');
        ok t_cmp(@free ? 1 : 0, 1,
                 "$name: event: thread-free: an answer with at least "
                 . $n / 2 . " suspended and at most 10 busy workers ($seen)");
    }
    else {
        skip mpm() . ': each download is paced on its own thread' for 1 .. 2;
    }
}

# The server afterwards.
server_clean_ok($quiet);
if ($quiet->{quiet}) {
    ok t_cmp(status_zero_within(20, 'DialupActive', 4), 1,
             'DialupActive back to 0');
}
else {
    skip "server not quiet before the test ($quiet->{left})";
}
if ($fpm) {
    ok t_cmp(stop_fpm(), 1, "php-fpm $fpm and its pool stopped");
}
else {
    skip "php-fpm not started: $why";
}
