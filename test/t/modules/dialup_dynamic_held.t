# A large proxied response is buffered, not held on the backend (issue
# 11): mod_dialup keeps what the backend sends faster than the line in
# memory up to DialupBufferMemory (32K by default), then in an unlinked
# temporary file up to DialupBufferFile (64M), so the backend is done at
# once while the client downloads at the modem's rate.
#
# Four downloads at once of a 400 KB file through mod_proxy_http from the
# backend virtual host of t/conf/dialup_dynamic.conf.in, paced at 640k
# (80000 bytes a second, about 5 s each; dialup/dyn/proxybig/):
#
# - the bodies are exact and each download is paced;
# - the backend's own access log (%D, microseconds) shows each response
#   took it well under a second, a small part of the download;
# - meanwhile a child of the server holds a buffer file open (deleted, in
#   the temporary directory), and none is left afterwards;
# - server-status?auto shows DialupHeldMemory or DialupHeldFile above 0,
#   some in a buffer file, and no more in memory than 32K (plus one read
#   of the proxy) per download.  (The counts are of the child that
#   answers: under prefork that child paces nothing, and those checks are
#   skipped.)
# - on event, the downloads are suspended once the backend is done, with
#   no worker held; elsewhere each holds one.
#
# Then a 200 KB download where DialupBufferFile is 0 and
# DialupBufferMemory 16K (dialup/dyn/proxynofile/): exact, paced, no
# buffer file, at most 16K and one read in memory; and a client that goes
# away (a reset) 1.5 s into a 400 KB download: its buffer file is closed
# and the request logged.  Last, DialupHeldMemory, DialupHeldFile and
# DialupActive back to 0.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use File::Spec ();
use Time::HiRes qw(time);

my $n = 4;
my $size = 400 * 1024;
my $rate = 640_000;
# DialupBufferMemory's default
my $mem_max = 32 * 1024;

plan tests => 21 + $n, need need_module('dialup'), need_module('proxy_http'),
                            need_module('status');

my $docroot = Apache::Test::vars('documentroot');
my $t_logs = Apache::Test::vars('t_logs');
my $backend_log = "$t_logs/dialup_backend_log";
my $data = content($size);
t_write_file("$docroot/dialup/dyn/backend/f400k.txt", $data);
my $data200 = content(200 * 1024);
t_write_file("$docroot/dialup/dyn/backend/f200k.txt", $data200);
my $notes_log = "$t_logs/dialup_notes_log";

# The system's temporary directory, DialupBufferDir's default (the
# server has the environment of this process).
my $tmp = File::Spec->tmpdir;
$tmp =~ s{/+$}{};

# Open files of the server's children that are deleted files in the
# temporary directory: the buffer files (O_TMPFILE shows as
# "/tmp/#123 (deleted)").  The first one seen is shown with t_debug.
my $shown;
sub buffer_files {
    my $count = 0;
    for my $pid (child_pids()) {
        opendir my $dh, "/proc/$pid/fd" or next;
        for my $fd (grep { /^\d+$/ } readdir $dh) {
            my $link = readlink "/proc/$pid/fd/$fd";
            next unless defined $link
                && $link =~ m{^\Q$tmp\E/[^/]+ \(deleted\)$};
            t_debug("child $pid, fd $fd: $link") unless $shown++;
            $count++;
        }
    }
    return $count;
}

my $quiet = quiet_server();
my $files_before = buffer_files();
t_debug("deleted files open in the children before: $files_before");

my (@auto, @files);
my @paths = map { "/dialup/dyn/proxybig/f400k.txt?held$$-$_" } 1 .. $n;
my @res = parallel_get(
    \@paths, timeout => 30,
    at => [map { my $t = $_ * 0.3; [$t, sub {
                push @files, buffer_files();
                push @auto, status_auto();
            }] } 1 .. 15]);

# --- the downloads -----------------------------------------------------------

my $exact = grep { $_->{status} == 200 && $_->{complete}
                   && body_matches($_->{body}, $data, 'f400k.txt') } @res;
ok t_cmp($exact, $n, "$n proxied downloads of 400 KB, bodies exact");
for my $i (0 .. $#res) {
    $res[$i]{elapsed} = $res[$i]{done};
    paced_ok($res[$i], "proxied 400 KB, download " . ($i + 1), $rate);
}

# --- the backend -------------------------------------------------------------

# "%D %>s %m %U%q"
my $lines = wait_for(10, sub {
    my @l = map { log_lines($backend_log, qr/ \Q$_\E$/) }
            map { my $p = $_; $p =~ s{/proxybig/}{/backend/}; $p } @paths;
    @l == $n ? \@l : undef;
}) || [];
t_debug("backend log: $_") for @$lines;
ok t_cmp(scalar @$lines, $n, "the backend logged the $n requests");
my @busy = map { /^(\d+) 200 / ? $1 / 1e6 : 99 } @$lines;
my ($backend_max) = sort { $b <=> $a } @busy, 0;
my ($client_min) = sort { $a <=> $b } map { $_->{done} || 0 } @res;
ok t_cmp(@busy == $n && $backend_max < 1.0
         && $backend_max < 0.25 * $client_min ? 1 : 0, 1,
         sprintf "the backend was busy at most %.1f ms per response "
         . "(under 1 s and a quarter of the %.3f s download)",
         $backend_max * 1000, $client_min);

# --- the buffer files --------------------------------------------------------

my ($files_max) = sort { $b <=> $a } @files, 0;
t_debug("deleted files open in the children during the downloads: @files");
ok t_cmp($files_max > $files_before ? 1 : 0, 1,
         "a buffer file open in a child during the downloads (at most "
         . "$files_max, $files_before before)");
my $closed = wait_for(20, sub { buffer_files() <= $files_before });
ok t_cmp($closed ? 1 : 0, 1,
         'no buffer file left open afterwards (now ' . buffer_files() . ')');

# --- server-status -----------------------------------------------------------

my @mem = map { $_->{DialupHeldMemory} } @auto;
my @file = map { $_->{DialupHeldFile} } @auto;
t_debug('DialupHeldMemory during the downloads: '
        . join ' ', map { defined $_ ? $_ : 'none' } @mem);
t_debug('DialupHeldFile during the downloads: '
        . join ' ', map { defined $_ ? $_ : 'none' } @file);
ok t_cmp((grep { defined } @mem, @file) == 2 * @auto && @auto ? 1 : 0, 1,
         'server-status?auto has DialupHeldMemory and DialupHeldFile lines');
my ($mem_max_seen) = sort { $b <=> $a } map { $_ || 0 } @mem;
my ($file_max_seen) = sort { $b <=> $a } map { $_ || 0 } @file;
if (mpm() eq 'prefork') {
    skip 'prefork: the child that answers server-status paces nothing'
        for 1 .. 3;
}
else {
    ok t_cmp($mem_max_seen > 0 || $file_max_seen > 0 ? 1 : 0, 1,
             "DialupHeldMemory ($mem_max_seen) or DialupHeldFile "
             . "($file_max_seen) above 0 in some answer");
    ok t_cmp($file_max_seen > 0 ? 1 : 0, 1,
             "DialupHeldFile above 0 in some answer: beyond 32K, the "
             . "response waits in a file (max $file_max_seen)");
    # Each download holds at most DialupBufferMemory in memory, and one
    # more read of the proxy (8 KB) that came while it was full.
    my $bound = $n * ($mem_max + 16 * 1024);
    ok t_cmp($mem_max_seen <= $bound ? 1 : 0, 1,
             "DialupHeldMemory never above $n x (32K + 16K) = $bound "
             . "(max $mem_max_seen)");
}

# Once the backend is done, the rest goes from timed callbacks on event,
# with no thread held; elsewhere each download holds a worker.  (The
# scoreboard's counts cover every child; the status request is busy
# itself.)
my @late = @auto[3 .. $#auto];      # from 1.2 s on
my ($susp_max) = sort { $b <=> $a } map { $_->{ConnsAsyncSuspended} || 0 } @late;
my ($busy_min) = sort { $a <=> $b } map { $_->{BusyWorkers} // 99 } @late;
my ($busy_max) = sort { $b <=> $a } map { $_->{BusyWorkers} || 0 } @late;
t_debug('BusyWorkers from 1.2 s on: '
        . join(' ', map { $_->{BusyWorkers} // 'none' } @late)
        . '; ConnsAsyncSuspended: '
        . join(' ', map { $_->{ConnsAsyncSuspended} // 'none' } @late));
if (expect_async()) {
    ok t_cmp($susp_max >= $n ? 1 : 0, 1,
             "event: ConnsAsyncSuspended reaches $n (max $susp_max)");
    ok t_cmp($busy_min <= 2 ? 1 : 0, 1,
             "event: BusyWorkers down to 2 at most while the $n downloads "
             . "go on (min $busy_min): no thread held");
}
else {
    ok t_cmp($susp_max, 0, mpm() . ': no connection suspended');
    ok t_cmp($busy_max >= $n + 1 ? 1 : 0, 1,
             mpm() . ": BusyWorkers reaches $n + 1, each download holding "
             . "a worker (max $busy_max)");
}

# --- DialupBufferFile 0, DialupBufferMemory 16K ----------------------------

# 200 KB at 640k, 2.5 s (dialup/dyn/proxynofile/): no buffer file, and
# no more than 16K (and one read of the proxy) in memory.
{
    my $name = 'no buffer file, 16K in memory';
    my $before = buffer_files();
    my (@auto2, @files2);
    my ($r) = parallel_get(
        ["/dialup/dyn/proxynofile/f200k.txt?nofile$$"], timeout => 20,
        at => [map { my $t = $_ * 0.3; [$t, sub {
                    push @files2, buffer_files();
                    push @auto2, status_auto();
                }] } 1 .. 7]);
    ok t_cmp($r->{status} == 200 && $r->{complete}
             && body_matches($r->{body}, $data200, $name) ? 1 : 0, 1,
             "$name: 200, body exact (got $r->{status}, "
             . length($r->{body}) . ' bytes)');
    $r->{elapsed} = $r->{done};
    paced_ok($r, $name, $rate);
    my ($most) = sort { $b <=> $a } @files2, 0;
    ok t_cmp($most <= $before ? 1 : 0, 1,
             "$name: no buffer file opened ($most open at most, $before "
             . 'before)');
    my @mem = map { $_->{DialupHeldMemory} || 0 } @auto2;
    t_debug("$name: DialupHeldMemory @mem");
    my ($max) = sort { $b <=> $a } @mem, 0;
    if (mpm() eq 'prefork') {
        skip 'prefork: the child that answers server-status paces nothing';
    }
    else {
        ok t_cmp($max <= 32 * 1024 ? 1 : 0, 1,
                 "$name: DialupHeldMemory never above 16K + 16K (max $max)");
    }
}

# --- a client gone mid-download ----------------------------------------------

{
    my $name = 'client gone';
    my $before = buffer_files();
    my $url = "/dialup/dyn/proxybig/f400k.txt?gone$$";
    my ($open, $closed, $got, $t_gone) = (0, 0, 0);
    eval {
        my $c = SuspendTest::Conn->new;
        $c->send_request(GET => $url);
        my $deadline = time + 1.5;
        while (time < $deadline) {
            last unless $c->fill($deadline);
        }
        $got = length $c->{buf};
        $open = buffer_files();
        $c->abort;
        $t_gone = time;
        $closed = wait_for(10, sub { buffer_files() <= $before });
    };
    t_debug("$name: error: $@") if $@;
    t_debug(sprintf "%s: %d bytes read in 1.5 s, buffer files %d then, "
            . "closed after %.3f s", $name, $got, $open,
            time - ($t_gone || time));
    ok t_cmp($open > $before ? 1 : 0, 1,
             "$name: a buffer file open while the client reads ($open, "
             . "$before before)");
    ok t_cmp($closed ? 1 : 0, 1,
             "$name: the buffer file closed within 10 s of the reset");
    # The request is logged with its modem when it ends.
    my $line = wait_for(10, sub {
        (log_lines($notes_log, qr/ \Q$url\E$/))[0];
    });
    t_debug("$name: notes log: " . ($line || 'none'));
    ok t_cmp(($line || '') =~ m{^640kbit/s \d+ 200 GET } ? 1 : 0, 1,
             "$name: logged with %{dialup}n 640kbit/s and a time");
}

# --- afterwards --------------------------------------------------------------

if ($quiet->{quiet}) {
    for my $key (qw(DialupHeldMemory DialupHeldFile DialupActive)) {
        ok t_cmp(status_zero_within(20, $key, 4), 1,
                 "$key back to 0 (four answers in a row)");
    }
}
else {
    skip "server not quiet before the test ($quiet->{left})" for 1 .. 3;
}
