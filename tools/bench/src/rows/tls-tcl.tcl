# The TLS workloads, tclsh with TclTLS 1.7: tls::socket -server with the bench certificate, and
# a blocking tls::socket client that verifies it (-require 1 -cafile; TclTLS 1.7 does not check
# the host name). What runs is decided by the parameters, as in tls-common.ts: bytes (bulk),
# handshakes, otherwise a line echo (pingpong; tls-idle's server is the same echo, idle).
source [file join [file dirname [info script]] tcl-common.tcl]
package require tls

set dir $env(SOCKCHAN_BENCH_TLS_DIR)
set cert [file join $dir cert.pem]
set key [file join $dir key.pem]
set kind [expr {[info exists opt(bytes)] ? "bulk" : ([info exists opt(handshakes)] ? "handshakes" : "pingpong")}]

proc serverAccept {chan addr port} {
    incr ::accepted
    if {$::kind eq "bulk"} {
        fconfigure $chan -translation binary -buffersize 65536 -blocking 0
        set ::received($chan) 0
        fileevent $chan readable [list sinkRead $chan]
    } else {
        fconfigure $chan -translation lf -buffering line -blocking 0
        fileevent $chan readable [list serverEcho $chan]
    }
}
proc serverEcho {chan} {
    if {[catch {
        while {[gets $chan line] >= 0} { puts $chan $line }
        if {[eof $chan]} { close $chan }
    }]} { catch {close $chan} }
}
proc sinkRead {chan} {
    if {[catch {read $chan} data]} { catch {close $chan}; return }
    incr ::received($chan) [string length $data]
    # TclTLS cannot half-close (`close $s write`: "half-close not applicable to stack of
    # transformations"): the sink answers once it has every byte (it is told how many) or at EOF.
    if {$::received($chan) >= $::opt(bytes) + $::opt(warmup) || [eof $chan]} {
        fileevent $chan readable {}
        fconfigure $chan -blocking 1
        catch { puts $chan $::received($chan); close $chan }
        unset ::received($chan)
    }
}
proc connect {} {
    return [tls::socket -cafile $::cert -require 1 -servername localhost $::opt(host) $::opt(port)]
}

switch -- $role {
    server {
        set server [tls::socket -server serverAccept -certfile $cert -keyfile $key -myaddr 127.0.0.1 0]
        fconfigure stdin -blocking 0
        fileevent stdin readable control
        puts "READY [lindex [fconfigure $server -sockname] 2]"
        flush stdout
        vwait forever
    }
    client {
        if {$kind eq "handshakes"} {
            set n $opt(handshakes)
            # The first `warmup` handshakes are not timed, as in every row.
            set warmup $opt(warmup)
            set start [clock microseconds]
            for {set i 0} {$i < $warmup + $n} {incr i} {
                if {$i == $warmup} { set start [clock microseconds] }
                set s [connect]
                tls::handshake $s
                close $s
            }
            result ops $n seconds [secondsSince $start]
        } elseif {$kind eq "bulk"} {
            set size $opt(chunk)
            set chunk [binary format x$size]
            set s [connect]
            fconfigure $s -translation binary -buffersize 65536
            tls::handshake $s
            # The first `warmup` bytes are not timed, as in every row; the sink counts them too.
            sendBytes $s $opt(warmup) $chunk
            set start [clock microseconds]
            sendBytes $s $opt(bytes) $chunk
            set total [expr {$opt(warmup) + $opt(bytes)}]
            flush $s
            set reply [gets $s]
            set seconds [secondsSince $start]
            if {$reply != $total} { fail "client: sink counted $reply bytes, $total were sent" }
            result bytes $opt(bytes) seconds $seconds
            close $s
        } else {
            set count $opt(count)
            set s [connect]
            fconfigure $s -translation lf -buffering line
            tls::handshake $s
            # The first `warmup` round trips are not timed, as in every row.
            set warmup $opt(warmup)
            for {set i 0} {$i < $warmup + $count} {incr i} {
                if {$i == $warmup} { set start [clock microseconds] }
                puts $s ping
                if {[gets $s reply] < 0 || $reply ne "ping"} { fail "client: echo differs or EOF after $i" }
            }
            result ops $count seconds [secondsSince $start]
            close $s
        }
    }
    default { fail "usage: tls-tcl.tcl server|client key=value..." }
}
