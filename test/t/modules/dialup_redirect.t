# A paced file reached through an internal redirect (issue 14, part 0).
# ap_internal_redirect() ends with ap_die(status, new), which swallows a
# SUSPENDED status: the outer handler returned OK, the request pool that
# held the pacing went away, and the next pulse crashed the child (the
# client got nothing).  Each ordinary way to get there, configured in
# t/conf/dialup_redirect.conf.in, on a keep-alive connection:
#
# - a per-directory RewriteRule (dialup/redir/alias.bin);
# - a CGI that prints only a local "Location:" (dialup/redir/cgi/);
# - mod_actions: an Action for a handler, whose target is the paced file
#   (dialup/redir/act/x.act);
# - an ErrorDocument that is the paced file: sent with the 404, so not
#   paced;
# - the DirectoryIndex of a paced directory (mod_dir's fast redirect: the
#   request stays the one the MPM drives, and may suspend under event).
#
# For each: the status and the body byte-exact; paced ones take at least
# 0.8 times what their wire bytes need at V.92, the 404 less than half of
# it; and the connection still answers a second request.  Last, the error
# log has no crash since the test started (test/run-all checks the whole
# log too).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use Apache::TestUtil qw(t_write_perl_script);
use SuspendTest;
use DialupTest;
use Time::HiRes qw(sleep);

my $rate = 56_000;              # V.92, bit/s
my $size = 20 * 1024;
my $docroot = Apache::Test::vars('documentroot');
my $target = '/dialup/redir/paced/f20k.bin';

my @cases = (
    { name => 'RewriteRule in <Directory>', need => 'rewrite',
      path => '/dialup/redir/alias.bin', status => 200, paced => 1 },
    { name => 'CGI local Location', need => 'cgi',
      path => '/dialup/redir/cgi/redirect.pl', status => 200, paced => 1 },
    { name => 'Action for a handler', need => 'actions',
      path => '/dialup/redir/act/x.act', status => 200, paced => 1 },
    { name => 'ErrorDocument 404', need => '',
      path => '/dialup/redir/err/missing.bin', status => 404, paced => 0 },
    { name => 'DirectoryIndex', need => 'dir',
      path => '/dialup/redir/index/', status => 200, paced => 1 },
);

plan tests => 3 * @cases + 1, need_module('dialup');

my $data = content($size);
t_write_file("$docroot$target", $data);
t_write_file("$docroot/dialup/redir/index/f20k.bin", $data);
t_write_file("$docroot/dialup/redir/act/x.act", "not the paced file\n");
# The <Directory> of the ErrorDocument applies only if the directory exists.
t_mkdir("$docroot/dialup/redir/err");
t_write_perl_script("$docroot/dialup/redir/cgi/redirect.pl",
                    "print \"Location: $target\\n\\n\";\n");

my $elog = Apache::Test::vars('t_logs') . '/error_log';
my $elog_start = -s $elog || 0;

sub have {
    my $need = shift;
    return 1 unless $need;
    return $need eq 'cgi' ? have_cgi() : have_module($need);
}

for my $case (@cases) {
    my $name = $case->{name};
    unless (have($case->{need})) {
        skip "$name: mod_$case->{need} is not loaded" for 1 .. 3;
        next;
    }
    served_twice_ok($name, $case->{path}, $case->{status}, $data, $rate,
                    $case->{paced});
}

# A child that crashed is reaped by the parent within a second or so,
# which logs it then.
sleep 2;
my @bad = error_log_since($elog, $elog_start,
                          qr/exit signal|dumped core|seg fault|Segmentation/);
ok t_cmp(scalar @bad, 0, 'no child crashed (error log)');
