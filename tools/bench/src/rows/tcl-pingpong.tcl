# pingpong, tclsh end to end: a line echo server (-buffering line: every puts is flushed) and a
# blocking client that sends one short line and waits for its echo, count times.
source [file join [file dirname [info script]] tcl-common.tcl]

proc serverAccept {chan addr port} {
    incr ::accepted
    fconfigure $chan -translation lf -buffering line -blocking 0
    fileevent $chan readable [list serverEcho $chan]
}
proc serverEcho {chan} {
    while {[gets $chan line] >= 0} { puts $chan $line }
    if {[eof $chan]} { close $chan }
}

switch -- $role {
    server {
        announce serverAccept
        vwait forever
    }
    client {
        set count $opt(count)
        set line [expr {[info exists opt(line)] ? $opt(line) : "ping"}]
        set s [socket $opt(host) $opt(port)]
        fconfigure $s -translation lf -buffering line
        # The first `warmup` round trips are not timed, as in every row.
        set warmup $opt(warmup)
        for {set i 0} {$i < $warmup + $count} {incr i} {
            if {$i == $warmup} { set start [clock microseconds] }
            puts $s $line
            if {[gets $s reply] < 0 || $reply ne $line} { fail "client: echo differs or EOF after $i" }
        }
        result ops $count seconds [secondsSince $start]
        close $s
    }
    default { fail "usage: tcl-pingpong.tcl server|client key=value..." }
}
