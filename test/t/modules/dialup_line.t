# One line per client (issue 12): the paced downloads of one client share
# its line, whatever connection or child serves them; other clients have
# lines of their own; DialupLine per-request keeps one rate per response.
# At 160k (20,000 bytes a second) in t/conf/dialup_line.conf.in:
# dialup/line/shared/ (keyed by the address), dialup/line/keyed/ (keyed
# by the X-Dialup-Client request header), dialup/line/single/
# (per-request).
#
# - 6 downloads of 15 KB at once from one client take about their total
#   over the line rate (4.6 s; each alone would take 0.8 s), shared
#   evenly: the first is done after at least 0.6 times 6 x (its size
#   less its head start) over the rate (1.3 s; one after the other it
#   would be done after 0.8 s; measured 2.1 to 2.6 s).  The head start: a transfer alone on the
#   line has it to itself for its first pulse and the one that
#   newcomers wait before they start (0.4 s, 8,000 bytes).
# - client-x with 1 download and client-y with 4 at once: client-x's
#   takes its own time, not a fifth of the line; client-y's 4 share.
# - 6 downloads on keep-alive connections that mod_suspend_test's
#   /connid places in both children (event, worker; under prefork every
#   connection has a process of its own) still share the line.
# - 20 KB and 60 KB at once: after the head start of one of them, they
#   share (the 20 KB one takes 1.3 s or more, 1 s alone); the 60 KB one
#   gets the whole line when the 20 KB one is done, so it ends after about
#   80 KB over the rate (4 s), not 6.4 s as at half the line to the end.
# - per-request: 6 at once, each at the full rate.
# - The access log's %{dialup-line}n: the address, the header's value
#   (the address without the header), "per-request"; and
#   %{dialup-latency}n 0 or "-" where no latency is configured.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use Time::HiRes qw(time sleep);

plan tests => 23, need need_module('dialup'), need_module('suspend_test');

my $docroot = Apache::Test::vars('documentroot');
my $rate = 160_000;
my $Bps = $rate / 8;
my $size = 15_000;
my $data = content($size);
my $small = content(20_000);
my $large = content(60_000);
for my $dir (qw(shared keyed single)) {
    t_write_file("$docroot/dialup/line/$dir/15k.txt", $data);
}
t_write_file("$docroot/dialup/line/shared/20k.txt", $small);
t_write_file("$docroot/dialup/line/shared/60k.txt", $large);

# The head start of a transfer alone on a line: two pulses (its first,
# and the one a newcomer waits) at the full rate.
my $head = 2 * 0.2;

# The seconds the responses @_ take on one line: their bytes on the
# wire over the rate.
sub line_time {
    my $n = 0;
    $n += wire($_) for @_;
    return $n / $Bps;
}

# How many of @_ are 200s with the body $want.
sub exact {
    my $want = shift;
    return scalar grep { $_->{status} == 200 && $_->{complete}
                         && body_matches($_->{body}, $want, $_->{name}) } @_;
}

sub max_done {
    my ($m) = sort { $b <=> $a } map { $_->{done} // 1e9 } @_;
    return $m;
}

sub min_done {
    my ($m) = sort { $a <=> $b } map { $_->{done} // 1e9 } @_;
    return $m;
}

# --- 6 at once from one client ------------------------------------------------

my $tag = "line$$";
my @six = many_get([map { { path => "/dialup/line/shared/15k.txt?$tag-six-$_" } }
                    1 .. 6], timeout => 40);
my $ideal = line_time(@six);
my $one = line_time($six[0]);
ok t_cmp(exact($data, @six), 6, '6 at once from one client: 200, bodies exact');
within_ok(max_done(@six), 0.8 * $ideal, 1.5 * $ideal + 1,
          sprintf '6 at once from one client: the last done after about '
          . 'their total over the line (one alone: %.2f s)', $one);
within_ok(min_done(@six), 0.6 * 6 * ($one - $head), undef,
          '6 at once from one client: shared evenly, the first done late '
          . 'too (one after the other it would be after '
          . sprintf('%.2f s)', $one));

# --- two clients ---------------------------------------------------------------

my $x = "/dialup/line/keyed/15k.txt?$tag-two";
my @two = many_get([{ path => "$x-x", name => 'client-x',
                      headers => ['X-Dialup-Client' => 'client-x'] },
                    map { { path => "$x-y$_", name => "client-y $_",
                            headers => ['X-Dialup-Client' => 'client-y'] } }
                        1 .. 4], timeout => 40);
my ($cx, @cy) = @two;
ok t_cmp(exact($data, @two), 5, 'client-x (1) and client-y (4) at once: 200, '
         . 'bodies exact');
paced_ok($cx, 'client-x, while client-y downloads 4', $rate);
my $yideal = line_time(@cy);
within_ok(max_done(@cy), 0.8 * $yideal, 1.5 * $yideal + 1,
          "client-y's 4 downloads share its line");

# --- both children -------------------------------------------------------------

# Six keep-alive connections, some in each child if the children take
# them: up to three tries.
my (@picked, %pids);
for my $try (1 .. 3) {
    my @c = connid_conns(mpm() eq 'prefork' ? 6 : 12);
    my %by;
    push @{ $by{$_->[1]} }, $_ for @c;
    t_debug("try $try: /connid: " . join ', ',
            map { "pid $_: " . @{ $by{$_} } } sort keys %by);
    # Take from each child in turn.
    @picked = ();
    my @kids = sort keys %by;
    while (@picked < 6 && grep { @{ $by{$_} } } @kids) {
        for my $k (@kids) {
            push @picked, shift @{ $by{$k} } if @picked < 6 && @{ $by{$k} };
        }
    }
    # The others are not needed (under worker each holds a thread).
    $_->[0]->disconnect for map { @{ $by{$_} } } @kids;
    %pids = map { $_->[1] => 1 } @picked;
    last if keys %pids >= 2 || $try == 3;
    $_->[0]->disconnect for @picked;
}
my @kids = sort keys %pids;
my @both = many_get([map { { path => "/dialup/line/shared/15k.txt?$tag-both-$_",
                             conn => $picked[$_][0],
                             name => "pid $picked[$_][1]" } } 0 .. $#picked],
                    timeout => 40);
$_->{conn}->disconnect for @both;
my $bideal = line_time(@both);
ok t_cmp(exact($data, @both), 6, '6 downloads on keep-alive connections: '
         . '200, bodies exact');
if (@kids >= 2) {
    within_ok(max_done(@both), 0.8 * $bideal, 1.5 * $bideal + 1,
              '6 downloads in ' . @kids . " processes (pids @kids) share "
              . 'the line');
}
else {
    skip "all 6 connections went to one child (pid @kids) in 3 tries: "
         . 'no download in another child to share the line with';
}

# --- a finished download hands its share over ----------------------------------

my ($s, $l) = many_get([{ path => "/dialup/line/shared/20k.txt?$tag-hand-s",
                          name => 'small' },
                        { path => "/dialup/line/shared/60k.txt?$tag-hand-l",
                          name => 'large' }], timeout => 40);
ok t_cmp(exact($small, $s) + exact($large, $l), 2,
         '20 KB and 60 KB at once: 200, bodies exact');
# Either may have had the head start.
my $sideal = $head + 2 * (line_time($s) - $head);
within_ok($s->{done}, 0.8 * $sideal, 1.5 * $sideal + 1,
          sprintf '20 KB beside 60 KB: at half the line after a head start '
          . '(alone: %.2f s)', line_time($s));
my $hand = line_time($s, $l);
within_ok($l->{done}, 0.8 * $hand, 1.2 * $hand + 0.5,
          sprintf '60 KB: the whole line once the 20 KB one is done (at half '
          . 'the line to the end: %.2f s)', $head + 2 * line_time($l));

# --- per-request ------------------------------------------------------------------

my @single = many_get([map { { path => "/dialup/line/single/15k.txt?$tag-single-$_" } }
                       1 .. 6], timeout => 40);
ok t_cmp(exact($data, @single), 6, 'per-request, 6 at once: 200, bodies exact');
within_ok(min_done(@single), 0.8 * $one, undef, 'per-request: each paced');
within_ok(max_done(@single), 0.8 * $one, 1.5 * $one + 0.5,
          sprintf 'per-request, 6 at once: each at the full rate (sharing '
          . 'a line: %.2f s)', line_time(@single));

# --- the notes in the access log ----------------------------------------------

my @log = line_log_of(qr/\?\Q$tag\E-(?:six|two|single)/, 17);
my %line;
for my $e (@log) {
    my ($what) = $e->{uri} =~ /\?\Q$tag\E-(\w+)-?/;
    $what .= $1 if $what eq 'two' && $e->{uri} =~ /-(x|y)\d*$/;
    push @{ $line{$what} }, $e;
}
sub lines_of {
    my $what = shift;
    return join ' ', sort map { $_->{line} } @{ $line{$what} || [] };
}
ok t_cmp(lines_of('six'), join(' ', ('127.0.0.1') x 6),
         '%{dialup-line}n: the address, where the line is the address\'s');
ok t_cmp(lines_of('twox'), 'client-x', '%{dialup-line}n: client-x');
ok t_cmp(lines_of('twoy'), join(' ', ('client-y') x 4),
         '%{dialup-line}n: client-y, 4 times');
ok t_cmp(lines_of('single'), join(' ', ('per-request') x 6),
         '%{dialup-line}n: per-request');
my @lat = map { $_->{latency} } @log;
ok t_cmp(scalar(grep { !/^(?:0|-)$/ } @lat), 0,
         '%{dialup-latency}n: 0 or "-" where no latency is configured (got '
         . join(' ', sort keys %{{ map { $_ => 1 } @lat }}) . ')');

# The header's key falls back to the address when the header is missing.
my $r = raw_get("/dialup/line/keyed/15k.txt?$tag-nohdr",
                headers => [Connection => 'close'], timeout => 20);
served_ok($r, 'keyed by a header, without the header', $data, $rate);
my ($nohdr) = line_log_of(qr/\?\Q$tag\E-nohdr$/);
ok t_cmp($nohdr ? $nohdr->{line} : 'no log line', '127.0.0.1',
         '%{dialup-line}n: the address when the key\'s header is missing');
ok t_cmp(scalar(grep { $_->{status} == 200 } @log), 17,
         'all 17 logged as 200');
