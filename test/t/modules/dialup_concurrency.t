# Many paced downloads at once, each about 2 s (4 KB at 16 kbit/s, in
# dialup/many/).
#
# Every MPM: 10 at once, each on its own connection, all bodies exact and
# all done within three times one download's time (worker and prefork
# pace on the request's thread; 10 fit in their 20).
#
# Event only: 1000 at once with h2load over HTTP/1.1, on 2 children x 10
# threads.  A suspended download holds no thread, so all of them finish
# in about one download's time; paced on the threads they would need
# 1000 / 20 x 2 s = 100 s.  Skipped when h2load is not installed.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use Time::HiRes qw(time);

my $few = 10;
my $many = 1000;
my $h2load = `sh -c 'command -v h2load' 2>/dev/null`;
chomp $h2load;

plan tests => expect_async() ? 7 : 3, need_module('dialup');

my $docroot = Apache::Test::vars('documentroot');
my $rate = 16_000;

my $data = join '', map { sprintf "%07d mod_dialup test data\n", $_ } 0 .. 141;
$data = substr $data, 0, 4096;
t_write_file("$docroot/dialup/many/4k.txt", $data);

# One download's time: body and about 250 bytes of headers at $rate.
my $ideal = (length($data) + 250) * 8 / $rate;
my $bound = 3 * $ideal;

# From a quiet server: no worker or connection of an earlier test.
quiet_server();

my @res = parallel_get([map { "/dialup/many/4k.txt?few$$-$_" } 1 .. $few],
                       timeout => 60);
my $ok = grep { $_->{status} == 200 && $_->{complete}
                && $_->{body} eq $data } @res;
my @done = sort { $a <=> $b } map { $_->{done} || 1e9 } @res;
t_debug(sprintf "%d of %d exact, done after %.3f .. %.3f s", $ok, $few,
        $done[0], $done[-1]);
ok t_cmp($ok, $few, "$few at once: bodies exact");
ok t_cmp($done[0] >= 0.8 * $ideal ? 1 : 0, 1,
         sprintf "%d at once: paced (first done after %.3f s, ideal %.2f s)",
         $few, $done[0], $ideal);
ok t_cmp($done[-1] <= $bound ? 1 : 0, 1,
         sprintf "%d at once: all done within %.1f s (last after %.3f s)",
         $few, $bound, $done[-1]);

exit 0 unless expect_async();

# Each download holds a socket, and the file it sends, in a child: with
# about half of them in each child, a soft limit of 1024 open files is
# short.  Shown for the diagnosis.
for my $pid (child_pids()) {
    open my $fh, '<', "/proc/$pid/limits" or next;
    my ($l) = grep { /^Max open files/ } <$fh>;
    t_debug("child $pid: $l") if $l;
}

if ($h2load) {
    my $url = 'http://' . host() . ':' . port() . '/dialup/many/4k.txt';
    my $cmd = "$h2load --h1 -n $many -c $many -m 1 -T 60 '$url' 2>&1";
    t_debug($cmd);
    my $out = `$cmd`;
    t_debug($out);
    my ($succeeded) = $out =~ /(\d+) succeeded/;
    my ($twoxx) = $out =~ /status codes:\s*(\d+) 2xx/;
    my ($data_bytes) = $out =~ /\((\d+)\) data/;
    my ($secs, $unit) = $out =~ /finished in ([\d.]+)(m?s)/;
    $secs /= 1000 if defined $secs && $unit eq 'ms';
    ok t_cmp($succeeded, $many, "h2load: $many succeeded");
    ok t_cmp($twoxx, $many, "h2load: $many 2xx");
    ok t_cmp($data_bytes, $many * length $data,
             "h2load: $many bodies of " . length($data) . ' bytes');
    ok t_cmp(defined $secs && $secs >= 0.8 * $ideal && $secs <= $bound
             ? 1 : 0, 1,
             sprintf "h2load: %d at once, paced and finished within %.1f s "
             . "(took %s s, one download %.2f s)", $many, $bound,
             defined $secs ? $secs : 'unknown', $ideal);
}
else {
    skip 'h2load not installed' for 1 .. 4;
}
