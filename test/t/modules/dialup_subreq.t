# A paced file included by a sub-request (issue 14, part 0).  An SSI
# <!--#include virtual="..." --> of a paced file made the sub-request
# suspend: mod_include logged "subrequest returned -3", and the
# sub-request's pulse locked its NULL invoke_mtx.  A sub-request is never
# paced on its own: its output is paced with its main request when that
# one is paced, and not at all otherwise.  The pages of
# t/conf/dialup_redirect.conf.in, each on a keep-alive connection:
#
# - dialup/subreq/outside.shtml (not paced) includes the paced file: not
#   paced at all;
# - dialup/subreq/paced/inside.shtml includes the paced file next to it,
#   and paced/plain.shtml a file that is not paced: the whole page is
#   paced at V.92.
#
# For each: 200, the page with the included file byte-exact, paced or not,
# and a second request on the connection answered.  Last, the error log
# since the test started has no "subrequest returned", no "unable to
# include" and no crash.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use Time::HiRes qw(sleep);

my $rate = 56_000;              # V.92, bit/s
my $size = 20 * 1024;
my $docroot = Apache::Test::vars('documentroot');
my $paced = '/dialup/subreq/paced/f20k.bin';
my $plain = '/dialup/subreq/f20k.bin';

my @cases = (
    { name => 'unpaced page including a paced file', include => $paced,
      page => '/dialup/subreq/outside.shtml', paced => 0 },
    { name => 'paced page including a paced file', include => 'f20k.bin',
      page => '/dialup/subreq/paced/inside.shtml', paced => 1 },
    { name => 'paced page including an unpaced file', include => $plain,
      page => '/dialup/subreq/paced/plain.shtml', paced => 1 },
);

plan tests => 3 * @cases + 1, need_module('dialup', 'include');

my $data = content($size);
t_write_file("$docroot$paced", $data);
t_write_file("$docroot$plain", $data);
for my $case (@cases) {
    t_write_file("$docroot$case->{page}",
                 "<p>before</p>\n<!--#include virtual=\"$case->{include}\" "
                 . "-->\n<p>after</p>\n");
}
my $want = "<p>before</p>\n$data\n<p>after</p>\n";

my $elog = Apache::Test::vars('t_logs') . '/error_log';
my $elog_start = -s $elog || 0;

for my $case (@cases) {
    my $name = $case->{name};
    served_twice_ok($name, $case->{page}, 200, $want, $rate,
                    $case->{paced});
}

# A child that crashed is reaped by the parent within a second or so,
# which logs it then.
sleep 2;
my @bad = error_log_since($elog, $elog_start,
                          qr/subrequest returned|unable to include/
                          . '|exit signal|dumped core|seg fault|Segmentation');
ok t_cmp(scalar @bad, 0, 'no failed include and no crash (error log)');
