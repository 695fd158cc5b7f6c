# A full table of lines (issue 12): t/conf/dialup_line.conf.in sets
# "DialupLines 8" for the whole server.  Ten clients at once
# (X-Dialup-Client, in dialup/line/keyed/ at 160k, 20,000 bytes a
# second): first table-0 .. table-7 download 80 KB each (4 s) and take
# the 8 lines (no other line is in use: the server is quiet first, and a
# line nobody uses is taken over at once); once all 8 are under way,
# extra-0 and extra-1 download two 40 KB files each.  The table is full:
# the extras are paced per request.  Afterwards, with the lines free
# again, one more client gets a line.
#
# Checked: all exact; the 8 first clients each logged with their key
# (%{dialup-line}n), the extras' 4 requests "per-request", each at the
# full rate (at most 1.3 times 2 s plus 0.5 s; two on one line would take
# 4 s each) and paced (at least 0.8 times 2 s); the error log has the
# tagged warning "line table full" (AH19113, warn) at least once and at
# most once per child that paced an extra (not once per request); the
# late client logged with its key.
#
# Under prefork every download holds a process: slow requests to
# mod_suspend_test first make the parent fork enough of them (up to three
# rounds), so that no request here waits in the accept queue (mod_dialup
# would then send at once what was due since it came).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use Time::HiRes qw(time);

plan tests => 10, need need_module('dialup'), need_module('suspend_test');

my $docroot = Apache::Test::vars('documentroot');
my $error_log = Apache::Test::vars('t_logs') . '/error_log';
my $Bps = 20_000;
my $lines = 8;
my $fill = content(80_000);
my $data = content(40_000);
t_write_file("$docroot/dialup/line/keyed/table80k.txt", $fill);
t_write_file("$docroot/dialup/line/keyed/table40k.txt", $data);
my $tag = "ltable$$";

quiet_server();
if (mpm() eq 'prefork') {
    for my $round (1 .. 3) {
        my @kids = child_pids();
        t_debug("prefork: round $round: " . @kids . ' processes');
        last if @kids >= 14;
        parallel_get([map { suspend_url(steps => 1, delay => 3000, size => 10)
                            . "&warm$_" } 1 .. 16], timeout => 30);
    }
    my @kids = child_pids();
    t_debug('prefork: ' . @kids . ' processes');
}

my $log_start = -s $error_log || 0;
my $m = DialupTest::Many->new(timeout => 60);
my @fills = map { $m->add(path => "/dialup/line/keyed/table80k.txt?$tag-fill-$_",
                          name => "table-$_",
                          headers => ['X-Dialup-Client' => "table-$_"]) }
            0 .. $lines - 1;
# Under way: their first bytes came (they joined their lines then).
$m->pump(until => sub { !grep { !defined $_->{t_first} } @fills });
my @extras = map { my $k = $_ >> 1;
                   $m->add(path => "/dialup/line/keyed/table40k.txt?$tag-extra-$k-"
                                   . ($_ & 1),
                           name => "extra-$k #" . ($_ & 1),
                           headers => ['X-Dialup-Client' => "extra-$k"]) }
             0 .. 3;
$m->pump;
ok t_cmp(scalar(grep { $_->{status} == 200 && $_->{complete}
                       && body_matches($_->{body}, $fill, $_->{name}) } @fills),
         $lines, "$lines clients with 80 KB each: 200, bodies exact");
ok t_cmp(scalar(grep { $_->{status} == 200 && $_->{complete}
                       && body_matches($_->{body}, $data, $_->{name}) } @extras),
         4, '2 more clients with two 40 KB each: 200, bodies exact');
my ($last_fill) = sort { $a <=> $b } map { $_->{done} // 0 } @fills;
my ($last_extra) = sort { $b <=> $a } map { $_->{done} // 1e9 } @extras;
t_debug(sprintf 'extras from %.2f s, done by %.2f s; the first of the 8 '
        . 'done after %.2f s', $extras[0]{start}, $last_extra, $last_fill);

my %log = map { $_->{uri} =~ /\?\Q$tag\E-(\S+)$/ ? ($1 => $_) : () }
          line_log_of(qr/\?\Q$tag\E-/, $lines + 4);
my @fill_lines = map { $log{"fill-$_"} ? $log{"fill-$_"}{line} : '-' }
                 0 .. $lines - 1;
ok t_cmp("@fill_lines", join(' ', map { "table-$_" } 0 .. $lines - 1),
         "the $lines first clients each with a line of their own");
my @extra_log = map { $log{"extra-$_"} } qw(0-0 0-1 1-0 1-1);
ok t_cmp(join(' ', map { $_ ? $_->{line} : '-' } @extra_log),
         join(' ', ('per-request') x 4),
         'the 2 more clients: the table is full, paced per request');

my $one = wire($extras[0]) / $Bps;
within_ok((sort { $b <=> $a } map { $_->{elapsed} // 1e9 } @extras)[0],
          0.8 * $one, 1.3 * $one + 0.5,
          sprintf 'the 2 more clients: the slowest of their 4 downloads at '
          . 'the full rate (two on one line: %.2f s)', 2 * $one);
within_ok((sort { $a <=> $b } map { $_->{elapsed} // 0 } @extras)[0],
          0.8 * $one, undef,
          'the 2 more clients: the fastest of their 4 downloads paced');

# The warning: tagged, at warn level, once per child that met the full
# table (not once per request).
my @warn = error_log_since($error_log, $log_start, qr/line table full/);
my %pids = map { $_ ? ($_->{pid} => 1) : () } @extra_log;
ok t_cmp(@warn >= 1 && @warn <= keys(%pids) ? 1 : 0, 1,
         'error log: "line table full" ' . @warn . ' time(s), from 1 to '
         . 'once per child that paced an extra (' . keys(%pids) . ')');
ok t_cmp(@warn && !(grep { !/\[dialup:warn\].* AH19113: / } @warn) ? 1 : 0,
         1, 'the warning is AH19113, at warn level');

# The lines are free again: a new client gets one.
my $late = raw_get("/dialup/line/keyed/table40k.txt?$tag-late",
                   headers => ['X-Dialup-Client' => 'table-late',
                               Connection => 'close'], timeout => 30);
ok t_cmp($late->{status} == 200 && body_matches($late->{body}, $data, 'late')
         ? 1 : 0, 1, 'a client after them: 200, body exact');
my ($l) = line_log_of(qr/\?\Q$tag\E-late$/);
ok t_cmp($l ? $l->{line} : 'no log line', 'table-late',
         'a client after them: a line again');
