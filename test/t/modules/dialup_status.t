# What mod_dialup tells the administrator: mod_status shows the paced
# downloads of the child that answers (DialupActive: N in ?auto, a table
# with the modem and the request in the HTML page) and, on event, the
# suspended connections (ConnsAsyncSuspended: N); both go back to 0.  On
# an MPM that cannot suspend, a NOTICE (AH19107) says so once per start
# or restart of the server; on event it is not logged.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use Time::HiRes qw(time sleep);

# More than one child's 10 threads: on worker both children pace some,
# whichever answers the status requests.
my $n = 15;

plan tests => expect_async() ? 8 : 7, need need_module('dialup'),
                                           need_module('status');

my $docroot = Apache::Test::vars('documentroot');
my $error_log = Apache::Test::vars('t_logs') . '/error_log';

my $data = join '', map { sprintf "%07d mod_dialup test data\n", $_ } 0 .. 141;
$data = substr $data, 0, 4096;
t_write_file("$docroot/dialup/many/4k.txt", $data);

# --- the startup notice ------------------------------------------------------

my @starts = log_lines($error_log,
                       qr/configured -- resuming normal operations/);
my @notes = log_lines($error_log, qr/AH19107/);
t_debug("starts: " . scalar(@starts) . ", AH19107: " . join '', @notes);
if (expect_async()) {
    ok t_cmp(scalar @notes, 0, 'event: no AH19107 notice');
}
else {
    my $mpm = mpm();
    ok t_cmp(scalar @notes, scalar @starts,
             "$mpm: one AH19107 notice per start of the server");
    ok t_cmp($notes[0] || '',
             qr/\[dialup:notice\].* AH19107: dialup: the $mpm MPM (?x)
                cannot\ suspend\ requests/,
             "$mpm: AH19107 is a notice naming the MPM");
}

# --- mod_status while downloads are paced ------------------------------------

# The counts go back to 0 afterwards only from a quiet server; when an
# earlier test left one that is not, those checks are skipped.
my $quiet = quiet_server();
my (@auto, @html);
my @res = parallel_get(
    [map { "/dialup/many/4k.txt?status$$-$_" } 1 .. $n],
    timeout => 20,
    at => [map { my $t = $_; [$t, sub {
                push @auto, status_auto();
                my $r = raw_get('/server-status', timeout => 5,
                                headers => [Connection => 'close']);
                push @html, $r->{body} || '';
            }] } 0.8, 1.0, 1.2, 1.4, 1.6]);

my $ok = grep { $_->{status} == 200 && $_->{complete}
                && $_->{body} eq $data } @res;
ok t_cmp($ok, $n, "$n paced downloads, bodies exact");

my @active = map { $_->{DialupActive} } @auto;
t_debug('DialupActive during the downloads: '
        . join ' ', map { defined $_ ? $_ : 'none' } @active);
ok t_cmp((grep { defined } @active) == @auto && @auto ? 1 : 0, 1,
         'server-status?auto has a DialupActive line');
my ($max) = sort { $b <=> $a } map { $_ || 0 } @active;
# <tr><td>client</td><td>modem</td><td>sent</td><td>total</td>
# <td>held in memory</td><td>held in file</td><td>request</td></tr>
my $row_re = qr{<td>16kbit/s</td><td>\d+</td><td>\d+</td><td>\d+</td><td>\d+</td>}
           . qr{<td>GET /dialup/many/4k\.txt\?status$$-\d+ HTTP/1\.1</td>};
my ($row) = grep { /$row_re/ } @html;
if (mpm() eq 'prefork') {
    # The child that answers serves nothing else.
    ok t_cmp($max || 0, 0, 'prefork: DialupActive 0 in the child that answers');
    ok t_cmp(scalar(grep { /<h2>mod_dialup<\/h2>/ } @html), scalar @html,
             'prefork: server-status has a mod_dialup section');
}
else {
    ok t_cmp(($max || 0) >= 1 && $max <= $n ? 1 : 0, 1,
             "DialupActive between 1 and $n in some child (max "
             . ($max || 0) . ')');
    ok t_cmp($row ? 1 : 0, 1,
             'server-status lists a paced request, with its modem, in its '
             . 'mod_dialup table');
}
if (expect_async()) {
    my @susp = map { $_->{ConnsAsyncSuspended} || 0 } @auto;
    t_debug("ConnsAsyncSuspended during the downloads: @susp");
    my ($smax) = sort { $b <=> $a } @susp;
    ok t_cmp(($smax || 0) >= $n ? 1 : 0, 1,
             "ConnsAsyncSuspended at least $n (max " . ($smax || 0) . ')');
}

# --- and afterwards ----------------------------------------------------------

if ($quiet->{quiet}) {
    ok t_cmp(status_zero_within(20, 'DialupActive', 4), 1,
             'DialupActive back to 0 (four answers in a row)');
    if (expect_async()) {
        ok t_cmp(status_zero_within(20, 'ConnsAsyncSuspended'), 1,
                 'ConnsAsyncSuspended back to 0');
    }
}
else {
    skip "server not quiet before the test ($quiet->{left})"
        for 1 .. (expect_async() ? 2 : 1);
}
