# A client gone in the middle of a paced response that another handler
# made (issue 11), held in memory and in a buffer file: 1 MB at 80k
# (10,000 bytes a second, 100 s), far more than DialupBufferMemory's
# default (32K), so that most of it goes to the response's unlinked
# temporary file.  Two handlers (t/conf/dialup_backend.conf.in):
#
# - mod_proxy_http to the backend virtual host (not paced) serving a
#   static 1 MB file: /dialup/backend/slow/;
# - a CGI printing the same 1 MB: /dialup/backend/cgi/.
#
# For each, while the client reads the first 15 KB: the download started
# byte-exact, a child has the buffer file open (a descriptor whose link
# is "/tmp/#INODE (deleted)" with O_TMPFILE, ".../dialup.XXXXXX
# (deleted)" without), and that child's server-status (asked on a
# keep-alive connection to it: each child counts its own) shows
# DialupHeldFile > 0 (not under prefork, where the child that answers
# server-status serves nothing else).  Then the client resets the
# connection: the request is logged as aborted soon after, the buffer
# file is closed, the children's descriptors go back to the baseline; the
# backend had sent all of its response (backend log) and the CGI process
# exited.  Afterwards: nothing left in CLOSE_WAIT, no suspended
# connection (event), DialupActive, DialupHeldMemory and DialupHeldFile
# back to 0 (in every child, each asked on a keep-alive connection to it;
# under prefork four answers in a row), and the server still serves.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test;
use Apache::TestUtil;
use SuspendTest;
use DialupTest;
use DialupBackend;
use Time::HiRes qw(time sleep);

my @cases = (
    ['proxied', '/dialup/backend/slow/1m.txt'],
    ['CGI',     '/dialup/backend/cgi/1m.cgi'],
);
my $tests = 7 * @cases + (expect_async() ? 3 : 2) + 4;
plan tests => $tests, need need_module('dialup'), need_module('proxy_http'),
                           need_module('status'),
                           need_cgi();

my $docroot = Apache::Test::vars('documentroot');
my $t_logs = Apache::Test::vars('t_logs');
my $size = 1024 * 1024;
my $data = content($size);
my $rate = 80_000;
my $secs = $size * 8 / $rate;
my $prefork = mpm() eq 'prefork';

t_write_file("$docroot/dialup/backend/origin/1m.txt", $data);
t_write_file("$docroot/dialup/backend/origin/small.txt", "small\n");
my $cgi = "$docroot/dialup/backend/cgi/1m.cgi";
t_write_file($cgi, <<"EOF");
#!$^X
# Written by t/modules/dialup_backend_abort.t: the 1 MB file, from a CGI.
open my \$f, '<', "\$ENV{DOCUMENT_ROOT}/dialup/backend/origin/1m.txt"
    or die "1m.txt: \$!";
binmode \$f;
binmode STDOUT;
local \$/;
print "Content-Type: text/plain\\n\\n", <\$f>;
EOF
chmod 0755, $cgi;
t_write_file("$docroot/dialup/backend/cgi/small.cgi",
             "#!$^X\nprint \"Content-Type: text/plain\\n\\nsmall\\n\";\n");
chmod 0755, "$docroot/dialup/backend/cgi/small.cgi";

# The line of a log of the request tagged $tag.
sub tagged_line {
    my ($log, $tag) = @_;
    my @l = log_lines("$t_logs/$log", qr/ "GET [^ ]*\?\Q$tag\E HTTP/);
    return $l[0];
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

# Warm-up: each child proxies and runs a CGI once, so that nothing a
# child opens once for good counts against the baseline.
for (1 .. 6) {
    raw_get('/dialup/backend/plain/small.txt', timeout => 10, quiet => 1,
            headers => [Connection => 'close']);
    raw_get('/dialup/backend/cgi/small.cgi', timeout => 10, quiet => 1,
            headers => [Connection => 'close']);
}

my $quiet = quiet_server();
my $base = $quiet->{fds};
my $base_sum = 0;
$base_sum += $_ for values %$base;
my @base_links = buffer_links(keys %$base);
t_debug('buffer files open before: ' . (join(', ', @base_links) || 'none'));

my $n = 0;
for my $case (@cases) {
    my ($name, $path) = @$case;
    my $tag = "backabort$$-" . ++$n;
    my ($started, @links, $t_gone);
    my ($held, $mem) = (0, 0);
    my $reached = 0;
    eval {
        my $c = SuspendTest::Conn->new;
        $c->send_request(GET => "$path?$tag");
        my $deadline = time + 10;
        my $want = 15_000;
        # The body so far (a CGI's is chunked: its complete chunks).
        my $body = sub {
            my $i = index $c->{buf}, "\r\n\r\n";
            return '' if $i < 0;
            my $rest = substr $c->{buf}, $i + 4;
            return $rest unless substr($c->{buf}, 0, $i)
                                =~ /^Transfer-Encoding: *chunked/mi;
            return (SuspendTest::Conn::decode_chunked(\$rest, 0))[1];
        };
        while (length($body->()) < $want && defined $c->fill($deadline)) {
            last if $c->{eof};
        }
        my $b = $body->();
        $started = $c->{buf} =~ m{^HTTP/1\.1 200 } && length $b >= $want
                   && $b eq substr($data, 0, length $b);
        # The buffer file, open in a child, and the counters.
        wait_for(5, sub { buffer_links(child_pids()) > @base_links });
        @links = buffer_links(child_pids());
        unless ($prefork) {
            # Asked of the child that has the buffer file, on a keep-alive
            # connection to it (the counters are the child's own).
            my ($pid) = map { m{^(\d+)/} } @links;
            my $conns = child_conns(8, $pid || ());
            # (on a loaded machine the listener may give every connection
            # to another child: try again a few times)
            for (1 .. 3) {
                last if !$pid || $conns->{$pid};
                my $more = child_conns(1, $pid);
                push @{ $conns->{$_} }, @{ $more->{$_} } for keys %$more;
            }
            $reached = $pid && $conns->{$pid} ? 1 : 0;
            my $st = $pid && wait_for(5, sub {
                my $s = status_of_child($conns, $pid);
                ($s->{DialupHeldFile} || 0) > 0 ? $s : undef;
            });
            close_conns($conns);
            ($held, $mem) = map { $st && $st->{$_} || 0 }
                                qw(DialupHeldFile DialupHeldMemory);
        }
        $t_gone = time;
        $c->abort;
    };
    t_debug("error: $@") if $@;
    $t_gone ||= time;
    ok t_cmp($started ? 1 : 0, 1,
             "$name: download started, 200, the first 15 KB exact");
    t_debug("$name: buffer files open: " . (join(', ', @links) || 'none'));
    ok t_cmp(@links > @base_links ? 1 : 0, 1,
             "$name: a child has the buffer file open (a '(deleted)' link: "
             . (join(', ', @links) || 'none') . ')');
    if ($prefork) {
        skip 'prefork: each child counts its own held bytes, and the child '
             . 'that answers server-status serves nothing else';
    }
    elsif (!$reached) {
        skip 'no connection of ours reached the child with the buffer file';
    }
    else {
        t_debug("$name: DialupHeldFile $held, DialupHeldMemory $mem");
        ok t_cmp($held > 0 && $held <= $size ? 1 : 0, 1,
                 "$name: DialupHeldFile > 0 during the download (got $held, "
                 . "DialupHeldMemory $mem)");
    }

    my $line = wait_for(10, sub { tagged_line('dialup_log', $tag) });
    my $after = time - $t_gone;
    t_debug("$name: dialup_log: " . ($line || 'none'));
    ok t_cmp($line && $line =~ /^200 \S+ X / && $after < 5 ? 1 : 0, 1,
             sprintf "%s: logged as aborted %.1f s after the client left "
             . "(limit 5 s; the download takes %.0f s)", $name, $after, $secs);

    my $closed = wait_for(10, sub { buffer_links(child_pids()) <= @base_links });
    ok t_cmp($closed ? 1 : 0, 1, "$name: buffer file closed (left: "
             . (join(', ', buffer_links(child_pids())) || 'none') . ')');

    if ($quiet->{quiet}) {
        my $fds = wait_for(20, sub { fd_total($base) <= $base_sum });
        ok t_cmp($fds ? 1 : 0, 1, "$name: descriptors of the children back "
                 . "to $base_sum (now " . fd_total($base) . ')');
    }
    else {
        skip "server not quiet before the test ($quiet->{left})";
    }

    if ($name eq 'CGI') {
        my $gone = wait_for(10, sub { !cgi_pids('1m.cgi') });
        ok t_cmp($gone ? 1 : 0, 1, 'CGI: the script\'s process exited (left: '
                 . (join(' ', cgi_pids('1m.cgi')) || 'none') . ')');
    }
    else {
        my $b = wait_for(5, sub { tagged_line('dialup_backend_log', $tag) });
        t_debug("backend log: " . ($b || 'none'));
        ok t_cmp(($b || '') =~ /^\d+ 200 $size / ? 1 : 0, 1,
                 "proxied: the backend sent its whole response (200 $size "
                 . "in the backend log)");
    }
}

# The server afterwards.
server_clean_ok($quiet);
if ($quiet->{quiet} && !$prefork) {
    # Each child asked on a connection of its own.
    for my $k (qw(DialupActive DialupHeldMemory DialupHeldFile)) {
        my ($ok, $said) = children_zero_within(20, $k);
        ok t_cmp($ok, 1, "$k back to 0 in every child ($said)");
    }
}
elsif ($quiet->{quiet}) {
    # Each answer covers the child that gives it: four zeros in a row.
    for my $k (qw(DialupActive DialupHeldMemory DialupHeldFile)) {
        ok t_cmp(status_zero_within(20, $k, 4), 1, "$k back to 0");
    }
}
else {
    skip "server not quiet before the test ($quiet->{left})" for 1 .. 3;
}
my $r = raw_get('/dialup/backend/plain/1m.txt',
                headers => [Connection => 'close']);
ok t_cmp($r->{status} == 200 && body_matches($r->{body}, $data, 'after')
         ? 1 : 0, 1, 'server still serves (the 1 MB file, proxied, not paced)');
