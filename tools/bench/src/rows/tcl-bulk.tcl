# bulk, tclsh end to end: -translation binary and -buffersize 65536 on both ends, so each
# 64 KiB puts is one write. The blocking client writes bytes in chunk-byte pieces, half-closes
# with [close $s write] and reads the sink's count; the non-blocking sink counts and answers at EOF.
source [file join [file dirname [info script]] tcl-common.tcl]

proc sinkAccept {chan addr port} {
    incr ::accepted
    fconfigure $chan -translation binary -buffersize 65536 -blocking 0
    set ::received($chan) 0
    fileevent $chan readable [list sinkRead $chan]
}
proc sinkRead {chan} {
    incr ::received($chan) [string length [read $chan]]
    if {[eof $chan]} {
        fileevent $chan readable {}
        fconfigure $chan -blocking 1
        puts $chan $::received($chan)
        close $chan
        unset ::received($chan)
    }
}

switch -- $role {
    server {
        announce sinkAccept
        vwait forever
    }
    client {
        set size $opt(chunk)
        set chunk [binary format x$size]
        set s [socket $opt(host) $opt(port)]
        fconfigure $s -translation binary -buffersize 65536
        # The first `warmup` bytes are not timed, as in every row; the sink counts them too.
        sendBytes $s $opt(warmup) $chunk
        set start [clock microseconds]
        sendBytes $s $opt(bytes) $chunk
        set total [expr {$opt(warmup) + $opt(bytes)}]
        close $s write
        set reply [gets $s]
        set seconds [secondsSince $start]
        if {$reply != $total} { fail "client: sink counted $reply bytes, $total were sent" }
        result bytes $opt(bytes) seconds $seconds
        close $s
    }
    default { fail "usage: tcl-bulk.tcl server|client key=value..." }
}
