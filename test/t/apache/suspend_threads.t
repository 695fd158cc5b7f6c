# A suspended request is finished on whatever worker thread runs its last
# timed callback, often not the thread that ran the handler.  Which thread
# runs a callback is the MPM's choice, so this only asks that among 20
# concurrent requests of 3 steps at least one finished on a thread other
# than its handler's.  Without suspension every request is served by its
# handler's thread and says so.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;

plan tests => 5, need_module('mod_suspend_test');

my $n = 20;
my @p = (steps => 3, delay => 100, size => 40, info => 1);
my @res = parallel_get([map { suspend_url(@p, tag => $_) } 1 .. $n],
                       timeout => 30);
my $chunks = expected_body(3, 40);
my @info = map { $_->{body} =~ /^\Q$chunks\E/ ? parse_info($_->{body})
                                              : undef } @res;

ok t_cmp(scalar(grep { $_->{status} == 200 && $_->{complete} } @res), $n,
         'all requests complete');
ok t_cmp(scalar(grep { defined } @info), $n,
         'all bodies exact, with the info line');
ok t_cmp(scalar(grep { $_ && $_->{mode} eq expected_mode() } @info), $n,
         'all served ' . expected_mode());

if (expect_async()) {
    my @diff = grep { $_ && $_->{resumed} eq 'diff' } @info;
    t_debug(sprintf "%d of %d finished on another thread; callback threads "
            . "per request: %s", scalar @diff, $n,
            join ' ', map { $_ ? $_->{threads} : '-' } @info);
    ok t_cmp(scalar(grep { $_ && $_->{callbacks} == 3 } @info), $n,
             'three callbacks each');
    ok t_cmp(@diff >= 1 ? 1 : 0, 1,
             'at least one finished on another thread than its handler');
}
else {
    ok t_cmp(scalar(grep { $_ && $_->{callbacks} == 0 } @info), $n,
             'no callbacks');
    ok t_cmp(scalar(grep { $_ && $_->{resumed} eq 'none' } @info), $n,
             'all finished by their handler');
}
