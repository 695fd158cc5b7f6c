# mod_dialup never serves what the core refuses.  Every request goes to
# dialup/access/paced/ (64 kbit/s) and to the same path in its unpaced
# twin dialup/access/plain/, which has the same files and the same rules
# (see t/conf/dialup_checks.conf.in): Require all denied, links under
# Options -FollowSymLinks (one to a file outside the DocumentRoot), ".."
# in the request line (sent raw: LWP would resolve it), .htaccess (denied
# by <Files ".ht*">), a missing file and a directory without an index.
# The paced answer has the core's status, the expected one, and the same
# body as the unpaced answer (with "paced" read as "plain"), never a byte
# of a refused file.  A control file is served and paced in one tree and
# not paced in the other, so the refusals were decided with pacing on.
# A small version of the "access" case of test/stress.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;

my $rate = 64_000;              # DialupRate in dialup/access/paced/
my $secret = "dialup-access secret $$: must never be sent\n";

# [name, path below the tree, expected status of the core]
my @cases = (
    ['Require all denied',                '/denied/secret.txt',        403],
    ['Require all denied, directory',     '/denied/',                  403],
    ['-FollowSymLinks, link in the tree', '/nolinks/link.txt',         403],
    ['-FollowSymLinks, link out of the DocumentRoot',
                                          '/nolinks/out.txt',          403],
    ['.. into a denied directory',        '/nolinks/../denied/secret.txt',
                                                                       403],
    ['.. above the root, to a file outside the DocumentRoot',
                                  '/../../../../dialup_outside/secret.txt',
                                                                       400],
    ['%2e%2e above the root',
                  '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/dialup_outside/secret.txt',
                                                                       400],
    ['.htaccess',                         '/.htaccess',                403],
    ['missing file',                      '/missing.txt',              404],
    ['directory without an index',        '/noindex/',                 403],
    ['directory without the slash',       '/noindex',                  301],
);

plan tests => 2 * @cases + 4, need_module('dialup');

my $docroot = Apache::Test::vars('documentroot');
my $outside = Apache::Test::vars('serverroot') . '/dialup_outside';
my $data = content(4096);

t_write_file("$outside/secret.txt", $secret);
my @links;
for my $tree (qw(paced plain)) {
    my $dir = "$docroot/dialup/access/$tree";
    t_write_file("$dir/ok.txt", $data);
    t_write_file("$dir/denied/secret.txt", $secret);
    t_write_file("$dir/.htaccess", "# $secret");
    t_write_file("$dir/noindex/secret.txt", $secret);
    t_mkdir("$dir/nolinks");
    # The targets themselves are served (ok.txt) or outside every
    # <Directory> rule here: only the link is refused.
    for (["$dir/nolinks/link.txt", '../ok.txt'],
         ["$dir/nolinks/out.txt", "$outside/secret.txt"]) {
        unlink $_->[0];
        symlink $_->[1], $_->[0] or die "symlink $_->[0]: $!";
        push @links, $_->[0];
    }
}
# Before Apache::TestUtil's cleanup, which removes only empty directories.
END { unlink @links }

# One raw request on a new connection: the request line as written.
sub get {
    my $path = shift;
    my $r = raw_get($path, timeout => 15,
                    headers => [Connection => 'close']);
    $r->{conn}->disconnect if $r->{conn};
    return $r;
}

# The body with the tree's name replaced, for bodies that name the URL.
sub same_body {
    my ($paced, $plain) = @_;
    (my $b = $paced->{body}) =~ s{/dialup/access/paced}{/dialup/access/plain}g;
    return $b eq $plain->{body};
}

for my $case (@cases) {
    my ($name, $path, $want) = @$case;
    my $paced = get("/dialup/access/paced$path");
    my $plain = get("/dialup/access/plain$path");
    t_debug("$name: paced $paced->{status}"
            . ($paced->{error} ? " ($paced->{error})" : '')
            . ", unpaced $plain->{status}");
    ok t_cmp("$paced->{status} $plain->{status}", "$want $want",
             "$name: status paced and unpaced");
    my $leak = index($paced->{body}, $secret) >= 0;
    ok t_cmp(!$leak && $paced->{complete} && $plain->{complete}
             && same_body($paced, $plain) ? 1 : 0, 1,
             "$name: same body paced and unpaced"
             . ($leak ? ', WITH THE SECRET' : ''));
}

# Controls: the same file, paced in one tree and at once in the other.
served_ok(get('/dialup/access/paced/ok.txt'), 'control, paced', $data,
          $rate);
served_ok(get('/dialup/access/plain/ok.txt'), 'control, unpaced', $data, 0);
