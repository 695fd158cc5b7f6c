# mod_status reports suspended connections: "ConnsAsyncSuspended: N" in
# /server-status?auto counts the requests suspended right now, and drops
# back to 0 when they are finished.  Event only (the only MPM that
# suspends).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;

plan tests => 5, need need_module('mod_suspend_test'), need_module('status'),
                   need_apache_mpm('event');

my $n = 20;
my $before = status_auto();
t_debug('before: ' . join ', ', map { "$_: $before->{$_}" }
                                grep { /^Conns/ } sort keys %$before);
ok t_cmp(exists $before->{ConnsAsyncSuspended} ? 1 : 0, 1,
         'server-status?auto has a ConnsAsyncSuspended line');

my $during;
my @res = parallel_get(
    [map { suspend_url(steps => 1, delay => 3000, size => 10, tag => $_) }
         1 .. $n],
    timeout => 20,
    at => [[1.5, sub { $during = status_auto() }]]);

t_debug('during: ' . join ', ', map { "$_: $during->{$_}" }
                                grep { /^Conns/ } sort keys %$during);
ok t_cmp($before->{ConnsAsyncSuspended}, 0, 'none suspended before');
ok t_cmp($during->{ConnsAsyncSuspended}, $n,
         "$n suspended while the requests wait");
ok t_cmp(scalar(grep { $_->{complete} && $_->{body} eq chunk(1, 10) } @res),
         $n, 'all requests complete');
my $after = wait_for(5, sub {
    my $v = status_auto()->{ConnsAsyncSuspended};
    defined $v && $v == 0 ? 1 : 0;
});
ok t_cmp($after, 1, 'none suspended after');
