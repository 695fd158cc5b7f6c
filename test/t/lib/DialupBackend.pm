# Helpers for t/modules/dialup_backend*.t (t/conf/dialup_backend.conf.in):
# a php-fpm of the test's own, the buffer files of mod_dialup as the
# children's descriptors show them, and server-status asked of a chosen
# child (its counters are the child's own).
#
# php-fpm runs as the user running the tests (run-all's test user), with
# a configuration written to t/logs, in the foreground of a child
# process of the test; stop_fpm() stops it by its pid, and an END block
# does so whatever happens to the test.

package DialupBackend;

use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use Apache::TestUtil qw(t_debug);
use IO::Socket::INET ();
use POSIX qw(WNOHANG);
use SuspendTest qw(wait_for);
use Time::HiRes qw(time sleep);

use Exporter 'import';
our @EXPORT = qw(fpm_binary start_fpm stop_fpm php_script buffer_links
                 child_conns status_of_child close_conns
                 children_zero_within);

# The php-fpm binary: php-fpm on the PATH, else Debian's
# /usr/sbin/php-fpmX.Y (the newest); undef if none.
sub fpm_binary {
    for my $dir (split(/:/, $ENV{PATH} || ''), '/usr/sbin', '/usr/local/sbin') {
        return "$dir/php-fpm" if -x "$dir/php-fpm" && !-d _;
    }
    my @v = sort { $b->[1] <=> $a->[1] }
            map { [$_, /php-fpm(\d+)\.(\d+)$/ ? $1 * 1000 + $2 : 0] }
            grep { -x } glob '/usr/sbin/php-fpm* /usr/local/sbin/php-fpm*';
    return @v ? $v[0][0] : undef;
}

my ($fpm_pid, @fpm_workers);

# The live processes whose parent is $ppid.
sub children_of {
    my $ppid = shift;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh>;
        next unless defined $line && $line =~ /^(\d+) \(.*\) (\S) (\d+) /s;
        push @pids, $1 if $3 == $ppid && $2 ne 'Z';
    }
    return @pids;
}

# Starts php-fpm with a pool of 4 static children listening on
# 127.0.0.1:$port.  Returns (pid, undef), or (undef, why not).  Waits up
# to 20 s for the pool to accept connections and its children to run.
sub start_fpm {
    my ($port) = @_;
    my $bin = fpm_binary() or return (undef, 'php-fpm is not installed '
                                      . '(Debian: php-fpm)');
    my $logs = Apache::Test::vars('t_logs');
    my $conf = "$logs/dialup_fpm.conf";
    my $elog = "$logs/dialup_fpm_error.log";
    unlink $elog;
    open my $fh, '>', $conf or return (undef, "cannot write $conf: $!");
    # No user/group: a php-fpm that is not root runs as its own user.
    print $fh <<"EOF";
; Written by t/lib/DialupBackend.pm for t/modules/dialup_backend*.t.
[global]
pid = $logs/dialup_fpm.pid
error_log = $elog
log_level = notice
daemonize = no
process_control_timeout = 5

[dialup]
listen = 127.0.0.1:$port
listen.allowed_clients = 127.0.0.1
pm = static
pm.max_children = 4
request_terminate_timeout = 60
catch_workers_output = yes
security.limit_extensions = .php
php_admin_flag[log_errors] = on
php_admin_value[error_log] = $logs/dialup_fpm_php.log
EOF
    close $fh;

    my $out = "$logs/dialup_fpm.out";
    my $pid = fork;
    return (undef, "fork: $!") unless defined $pid;
    if ($pid == 0) {
        # Nothing of the test's (its TAP on standard output) stays open
        # in php-fpm.
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $out;
        open STDERR, '>&', \*STDOUT;
        { exec $bin, '-n', '-y', $conf, '--nodaemonize' }
        POSIX::_exit(127);
    }
    $fpm_pid = $pid;
    t_debug("started $bin -n -y $conf --nodaemonize: pid $pid");

    my $up = wait_for(20, sub {
        return 'exited' if waitpid($pid, WNOHANG) == $pid;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp',
                                      Timeout => 2) or return 0;
        close $s;
        return children_of($pid) >= 4 ? 'up' : 0;
    });
    @fpm_workers = children_of($pid);
    if (!$up || $up ne 'up') {
        my $why = $up ? 'php-fpm exited at once' : 'php-fpm not up in 20 s';
        for my $f ($elog, $out) {
            open my $l, '<', $f or next;
            my @l = <$l>;
            $why .= "; $f: " . join '', @l[($#l > 4 ? $#l - 4 : 0) .. $#l];
        }
        $why =~ s/\s+$//;
        stop_fpm() unless $up;
        $fpm_pid = undef if $up;
        return (undef, $why);
    }
    t_debug("php-fpm $pid up, pool children @fpm_workers");
    return ($pid, undef);
}

# Stops our php-fpm (TERM, then KILL after 10 s), and its pool children;
# waits for them.  Returns 1 when they are all gone.
sub stop_fpm {
    return 1 unless $fpm_pid;
    my $pid = $fpm_pid;
    push @fpm_workers, children_of($pid);
    my %w = map { $_ => 1 } @fpm_workers;
    kill 'TERM', $pid;
    my $gone = wait_for(10, sub {
        waitpid($pid, WNOHANG);
        !kill(0, $pid) && !grep { kill 0, $_ } keys %w;
    });
    unless ($gone) {
        kill 'KILL', grep { kill 0, $_ } $pid, keys %w;
        $gone = wait_for(5, sub {
            waitpid($pid, WNOHANG);
            !kill(0, $pid) && !grep { kill 0, $_ } keys %w;
        });
    }
    t_debug("php-fpm $pid stopped" . ($gone ? '' : ' (NOT all gone)'));
    ($fpm_pid, @fpm_workers) = ();
    return $gone ? 1 : 0;
}

END {
    local $?;
    stop_fpm() if $fpm_pid;
}

# A PHP script that prints the first n (query string "n", default 40000)
# bytes of DialupTest's content(); a POST first gets a line with the
# request body's length and MD5.
sub php_script {
    return <<'EOF';
<?php
// Written by t/modules/dialup_backend*.t: the first n bytes of
// DialupTest::content(), numbered 29-byte lines.
$n = isset($_GET['n']) ? (int)$_GET['n'] : 40000;
header('Content-Type: text/plain');
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $in = file_get_contents('php://input');
    echo 'POST ' . strlen($in) . ' ' . md5($in) . "\n";
}
$s = '';
for ($i = 0; strlen($s) < $n; $i++) {
    $s .= sprintf("%07d mod_dialup test data\n", $i);
}
echo substr($s, 0, $n);
EOF
}

# The buffer files of mod_dialup open in processes @pids: their
# descriptors' links, "PID/FD -> /tmp/#12345 (deleted)" (O_TMPFILE) or
# ".../dialup.XXXXXX (deleted)" (created and unlinked).
sub buffer_links {
    my @l;
    for my $pid (@_) {
        opendir my $dh, "/proc/$pid/fd" or next;
        for my $fd (grep { /^\d+$/ } readdir $dh) {
            my $t = readlink "/proc/$pid/fd/$fd";
            push @l, "$pid/$fd -> $t"
                if defined $t && $t =~ m{/(?:#\d+|dialup\.\w{6}) \(deleted\)$};
        }
    }
    return @l;
}

# The child (of @pids) that holds the server side of our connection $c.
sub conn_owner {
    my ($c, @pids) = @_;
    my $want = sprintf ':%04X', $c->sockport;
    my $local = sprintf ':%04X', SuspendTest::port();
    my $inode;
    open my $fh, '<', '/proc/net/tcp' or return undef;
    while (<$fh>) {
        my @f = split;
        next unless @f > 9 && $f[1] =~ /\Q$local\E$/ && $f[2] =~ /\Q$want\E$/;
        $inode = $f[9];
        last;
    }
    return undef unless $inode;
    for my $pid (@pids) {
        opendir my $dh, "/proc/$pid/fd" or next;
        for my $fd (readdir $dh) {
            my $t = readlink "/proc/$pid/fd/$fd";
            return $pid if defined $t && $t eq "socket:[$inode]";
        }
    }
    return undef;
}

# $n keep-alive connections to the server, each having had one request
# answered, by the child that holds them: { pid => [connections] }; more
# while a child of @want has none (up to 40 in all on event, whose
# listeners may hand nearly all new connections to one child; 12
# elsewhere, where each holds a thread).  The counters of server-status
# are the answering child's own: a request on one of these connections
# asks a chosen child (see status_of_child()).  Not for prefork, whose
# children serve one connection each.
sub child_conns {
    my ($n, @want) = @_;
    my %by;
    my $max = SuspendTest::expect_async() ? 40 : 12;
    my @pids = SuspendTest::child_pids();
    for my $i (1 .. $max) {
        last if $i > $n && !grep { !$by{$_} } @want;
        my $c = eval {
            my $c = SuspendTest::Conn->new;
            $c->send_request(GET => '/health.txt');
            my $r = $c->read_response(timeout => 5, quiet => 1);
            $r->{status} == 200 ? $c : undef;
        } or next;
        my $pid = conn_owner($c, @pids);
        if ($pid) {
            push @{ $by{$pid} }, $c;
        }
        else {
            $c->disconnect;
        }
    }
    t_debug('keep-alive connections per child: '
            . join ' ', map { "$_=" . @{ $by{$_} } } sort keys %by);
    return \%by;
}

# server-status?auto as { key => value } from child $pid, on one of its
# connections of $conns (child_conns()); {} when it has none left (each
# connection closed by the server is dropped).
sub status_of_child {
    my ($conns, $pid) = @_;
    my $list = $conns->{$pid} || [];
    while (@$list) {
        my $r = eval {
            $list->[0]->send_request(GET => '/server-status?auto');
            $list->[0]->read_response(timeout => 5, quiet => 1);
        };
        if ($r && $r->{status} == 200 && $r->{complete}) {
            my %v;
            for (split /\n/, $r->{body}) {
                $v{$1} = $2 if /^([^:]+):\s*(.*?)\s*$/;
            }
            return \%v;
        }
        shift @$list;
    }
    return {};
}

# Closes the connections of child_conns().
sub close_conns {
    my ($conns) = @_;
    $_->disconnect for map { @$_ } values %$conns;
    %$conns = ();
}

# True when, within $secs seconds, every child that keep-alive
# connections reach (child_conns(), trying for each child) says 0 for each of @keys in server-status (each
# asked on its own connection), and at least one child was asked.  Not
# for prefork.  Returns (1 or 0, what the children said last).
sub children_zero_within {
    my ($secs, @keys) = @_;
    my $conns = child_conns(8, SuspendTest::child_pids());
    my %last;
    my $ok = wait_for($secs, sub {
        for my $pid (keys %$conns) {
            my $st = status_of_child($conns, $pid);
            $last{$pid} = join ' ', map { "$_=" . ($st->{$_} // 'none') }
                                    @keys;
        }
        %last && !grep { /=(?!0\b)/ } values %last;
    });
    close_conns($conns);
    return ($ok ? 1 : 0,
            join('; ', map { "child $_: $last{$_}" } sort keys %last)
            || 'no child reached');
}

1;
