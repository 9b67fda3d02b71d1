# Shared plumbing of the tclsh row scripts: arguments, the stdin control protocol of
# tools/bench/README.md, results. Sourced by every tcl-*.tcl script.

# argv: <role> key=value ... (`warmup`: untimed round trips before a pingpong client's clock
# starts, or untimed bytes before a bulk client's)
set role [lindex $argv 0]
array set opt {host 127.0.0.1 warmup 0}
foreach word [lrange $argv 1 end] {
    set eq [string first = $word]
    if {$eq > 0} {
        set opt([string range $word 0 [expr {$eq - 1}]]) [string range $word [expr {$eq + 1}] end]
    }
}
set accepted 0

proc fail {message} {
    puts stderr $message
    exit 2
}

# Prints the client's result line: RESULT {"key":number,...}
proc result {args} {
    set parts {}
    foreach {k v} $args { lappend parts "\"$k\":$v" }
    puts "RESULT \{[join $parts ,]\}"
    flush stdout
}

# Writes n bytes to the binary channel s: whole pieces of chunk (a byte string), then the rest.
proc sendBytes {s n chunk} {
    set size [string length $chunk]
    set sent 0
    while {$sent + $size <= $n} {
        puts -nonewline $s $chunk
        incr sent $size
    }
    if {$sent < $n} { puts -nonewline $s [string range $chunk 0 [expr {$n - $sent - 1}]] }
}

# Seconds since a [clock microseconds] value.
proc secondsSince {start} {
    return [expr {([clock microseconds] - $start) / 1e6}]
}

# Control commands on stdin: COUNT, GC (nothing to collect in Tcl), MEM (no heap figures;
# the harness reads RSS from /proc), QUIT; EOF ends the process.
proc control {} {
    if {[gets stdin line] < 0} {
        if {[eof stdin]} { exit 0 }
        return
    }
    switch -- [string trim $line] {
        COUNT { puts "COUNT $::accepted" }
        GC { puts "GC ok" }
        MEM { puts "MEM {}" }
        QUIT { exit 0 }
    }
    flush stdout
}

# Listens on 127.0.0.1, an ephemeral port, serves the control protocol, prints READY <port>.
proc announce {command} {
    set server [socket -server $command -myaddr 127.0.0.1 0]
    fconfigure stdin -blocking 0
    fileevent stdin readable control
    puts "READY [lindex [fconfigure $server -sockname] 2]"
    flush stdout
    return $server
}
