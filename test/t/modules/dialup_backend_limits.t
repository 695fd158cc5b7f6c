# DialupBufferMemory and DialupBufferFile (issue 11): what a response
# holds ahead of the line, in memory and in its buffer file, and when the
# handler's thread waits instead.  A CGI prints its whole output at once,
# far faster than the line (320k, 40,000 bytes a second;
# t/conf/dialup_backend.conf.in):
#
# - dialup/backend/cgi/limits/ (DialupBufferMemory 16K, DialupBufferFile
#   64K), 300 KB (7.5 s): the body is exact and paced; the CGI is still
#   running 2 s in (by then 80 KB have gone and at most 80 KB are held:
#   the handler waits for room) and exits before the download ends.
#   server-status of the child that paces it (asked on a keep-alive
#   connection to that child; not under prefork, where the child that
#   answers is never the one that paces) never shows more than 16K in
#   memory (plus what one write of the handler brings, up to 16K), nor
#   more than 64K in the file.  The buffer file itself (its size, seen
#   through the child's descriptor) grows to at most 64K: the bound is on
#   what is written to it, which does not shrink while the response is
#   sent (mod_dialup.xml), and beyond both bounds the handler waits.
# - dialup/backend/cgi/nofile/ (DialupBufferFile 0), 100 KB: exact and
#   paced, no buffer file ever open in a child, DialupHeldFile always 0.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use DialupBackend;
use Time::HiRes qw(time);

plan tests => 12, need need_module('dialup'), need_module('status'),
                       need_cgi();

my $docroot = Apache::Test::vars('documentroot');
my $rate = 320_000;
my $prefork = mpm() eq 'prefork';
my $why_prefork = 'prefork: each child counts its own held bytes, and the '
                . 'child that answers server-status serves nothing else';

my $big = 300_000;
my $small = 100_000;
t_write_file("$docroot/dialup/backend/origin/300k.txt", content($big));
t_write_file("$docroot/dialup/backend/origin/100k.txt", content($small));
for (['limits', '300k'], ['nofile', '100k']) {
    my ($dir, $name) = @$_;
    my $cgi = "$docroot/dialup/backend/cgi/$dir/$name.cgi";
    t_write_file($cgi, <<"EOF");
#!$^X
# Written by t/modules/dialup_backend_limits.t: $name.txt, all at once.
open my \$f, '<', "\$ENV{DOCUMENT_ROOT}/dialup/backend/origin/$name.txt"
    or die "$name.txt: \$!";
binmode \$f;
binmode STDOUT;
local \$/;
print "Content-Type: text/plain\\n\\n", <\$f>;
EOF
    chmod 0755, $cgi;
}

# The processes of the CGI script $name.
sub cgi_pids {
    my $name = shift;
    my @p;
    for my $cmd (glob '/proc/[0-9]*/cmdline') {
        open my $fh, '<', $cmd or next;
        my $c = <$fh>;
        push @p, $cmd =~ m{/proc/(\d+)/} if defined $c && $c =~ /\Q$name\E/;
    }
    return @p;
}

# The child that has a buffer file open, else the parent of the CGI
# $script when it is one of @kids (under mod_cgid the CGI's parent is the
# daemon of mod_cgid, not the child that serves the request).
sub pacing_child {
    my ($script, @kids) = @_;
    my ($l) = buffer_links(child_pids());
    return $1 if $l && $l =~ /^(\d+)\//;
    my %kid = map { $_ => 1 } @kids;
    for my $pid (cgi_pids($script)) {
        open my $fh, '<', "/proc/$pid/stat" or next;
        my ($ppid) = (<$fh> // '') =~ /^\d+ \(.*\) \S (\d+) /s;
        return $ppid if $ppid && $kid{$ppid};
    }
    return undef;
}

# GET $path while looking, every 0.25 s: whether the CGI $script runs,
# the counters of server-status in the child that paces the download
# (asked on a keep-alive connection to that child), and the buffer files
# open in the children.  Returns (the response, the looks: [t, cgi
# running, DialupActive, DialupHeldMemory, DialupHeldFile, buffer files,
# the largest buffer file's size]).
sub watched_get {
    my ($path, $script, $secs) = @_;
    my @looks;
    my $conns = $prefork ? {} : child_conns(8, child_pids());
    my $pid;
    my $reach = 0;
    my $t0 = time;
    my $look = sub {
        my $t = time - $t0;
        my $run = cgi_pids($script) ? 1 : 0;
        $pid = pacing_child($script, keys %$conns) || $pid;
        # A child started after child_conns() (or one that the listener
        # never gave a connection to, on a loaded machine): connect until
        # one of ours reaches it, a few times at most.
        if ($pid && !$prefork && !$conns->{$pid} && $reach++ < 4) {
            my $more = child_conns(1, $pid);
            push @{ $conns->{$_} }, @{ $more->{$_} } for keys %$more;
        }
        my $st = {};
        if ($pid && $conns->{$pid}) {
            $st = status_of_child($conns, $pid);
        }
        elsif (!$prefork) {
            # Not known yet (no CGI running, no buffer file): the child
            # whose answer counts a download.
            for my $p (sort keys %$conns) {
                my $x = status_of_child($conns, $p);
                $st = $x if %$x && (!%$st || ($x->{DialupActive} || 0) > 0);
            }
        }
        my @links = buffer_links(child_pids());
        my ($size) = sort { $b <=> $a }
                     map { m{^(\d+)/(\d+) } ? -s "/proc/$1/fd/$2" // 0 : 0 }
                     @links;
        push @looks, [$t, $run, map({ $st->{$_} // -1 }
                                    qw(DialupActive DialupHeldMemory
                                       DialupHeldFile)),
                      scalar @links, $size // 0];
    };
    my ($r) = parallel_get([$path], timeout => 3 * $secs + 10,
        at => [map { [0.25 * $_, $look] } 1 .. int(4 * $secs * 1.5)]);
    $_->disconnect for map { @$_ } values %$conns;
    t_debug("download paced by child " . ($pid // '?'));
    t_debug(sprintf 'looks (t cgi active mem file links size): %s',
            join ', ', map { sprintf '%.2f %d %d %d %d %d %d', @$_ } @looks);
    return ($r, \@looks);
}

# --- small buffers -----------------------------------------------------------

my $secs = $big * 8 / $rate;
my ($r, $looks) = watched_get("/dialup/backend/cgi/limits/300k.cgi?l$$",
                              '300k.cgi', $secs);
ok t_cmp($r->{status} == 200 && $r->{complete}
         && body_matches($r->{body}, content($big), 'limits') ? 1 : 0, 1,
         "small buffers: 200, $big bytes exact (got $r->{status}, "
         . length($r->{body}) . ' bytes'
         . ($r->{error} ? ", $r->{error}" : '') . ')');
paced_ok({ %$r, elapsed => $r->{done} }, 'small buffers', $rate);
my @running = grep { $_->[1] } @$looks;
my $last_run = @running ? $running[-1][0] : 0;
ok t_cmp($last_run >= 2 ? 1 : 0, 1,
         sprintf 'small buffers: the CGI waited for room, still running '
         . '2 s in (last seen running after %.2f s)', $last_run);
ok t_cmp(defined $r->{done} && $last_run < $r->{done} ? 1 : 0, 1,
         sprintf 'small buffers: the CGI exited before the download ended '
         . '(last seen running after %.2f s, done after %s s)', $last_run,
         $r->{done} // 'never');
my ($fsize) = sort { $b <=> $a } map { $_->[6] } @$looks;
ok t_cmp(($fsize || 0) > 0 && $fsize <= 65536 ? 1 : 0, 1,
         'small buffers: the buffer file was used and grew to at most 64K '
         . '(largest size seen ' . ($fsize // 'none') . ')');
if ($prefork) {
    skip $why_prefork for 1 .. 2;
}
else {
    # The looks at the child that paces the download.
    my @mine = grep { $_->[2] >= 1 } @$looks;
    my ($mem) = sort { $b <=> $a } map { $_->[3] } @mine;
    my ($file) = sort { $b <=> $a } map { $_->[4] } @mine;
    if (!@mine) {
        # (what the child holds is seen only on a connection to it: none
        # reached it, after the retries above)
        skip 'no connection of ours reached the pacing child' for 1 .. 2;
    }
    else {
        ok t_cmp($mem <= 2 * 16384 ? 1 : 0, 1,
                 'small buffers: DialupHeldMemory at most 16K, plus what '
                 . 'one write of the handler brings (up to 16K) (max '
                 . "$mem in " . @mine . ' looks)');
        ok t_cmp($file <= 65536 ? 1 : 0, 1,
                 "small buffers: DialupHeldFile at most 64K (max $file)");
    }
}

# --- no buffer file ------------------------------------------------------------

$secs = $small * 8 / $rate;
($r, $looks) = watched_get("/dialup/backend/cgi/nofile/100k.cgi?n$$",
                           '100k.cgi', $secs);
ok t_cmp($r->{status} == 200 && $r->{complete}
         && body_matches($r->{body}, content($small), 'nofile') ? 1 : 0, 1,
         "DialupBufferFile 0: 200, $small bytes exact (got $r->{status})");
paced_ok({ %$r, elapsed => $r->{done} }, 'DialupBufferFile 0', $rate);
my ($links) = sort { $b <=> $a } map { $_->[5] } @$looks;
ok t_cmp(@$looks && !$links ? 1 : 0, 1,
         'DialupBufferFile 0: no buffer file open in any look (max '
         . ($links // 'none') . ')');
if ($prefork) {
    skip $why_prefork;
}
else {
    my @mine = grep { $_->[2] >= 1 } @$looks;
    my ($file) = sort { $b <=> $a } map { $_->[4] } @mine;
    ok t_cmp(@mine && !$file ? 1 : 0, 1,
             'DialupBufferFile 0: DialupHeldFile 0 (max ' . ($file // 'none')
             . ' in ' . @mine . ' looks)');
}

ok t_cmp(scalar wait_for(10, sub { !buffer_links(child_pids()) }) ? 1 : 0, 1,
         'no buffer file left open');
