# Asks tclsh how each table encoding maps bytes and characters, and prints it as text that
# scripts/generate-tables.mjs turns into data/tables.json. This script only calls `encoding
# convertfrom` / `encoding convertto`: the tables are what tclsh reports, not Tcl's source.
#
# Usage: tclsh dump-tables.tcl enc1 enc2 ...
# Output, per encoding:
#   E <name>
#   S <256 words>          decode of each single byte: UTF-16 hex of the result, "-" when empty
#   P <lead> <256 words>   for each byte whose lone decode is empty (a lead byte): decode of lead+trail
#   T <type>               S (one byte per char), D (two bytes per char) or M (mixed)
#   B <hex>                convertto of every BMP non-surrogate character in order, each followed by
#                          \x01 for type M (a separator: no trail byte is 0x01, checked by the reader)
fconfigure stdout -translation lf -encoding ascii

proc u16 {s} {
    if {$s eq ""} { return - }
    binary scan [encoding convertto unicode $s] H* h
    return $h
}

set bmp {}
for {set c 0} {$c < 0x10000} {incr c} {
    if {$c >= 0xD800 && $c < 0xE000} continue
    append bmp [format %c $c]
}
set bmpSep {}
for {set c 0} {$c < 0x10000} {incr c} {
    if {$c >= 0xD800 && $c < 0xE000} continue
    append bmpSep [format %c $c] \x01
}

foreach enc $argv {
    puts "E $enc"
    set singles {}
    set leads {}
    for {set b 0} {$b < 256} {incr b} {
        set s [encoding convertfrom $enc [binary format c $b]]
        lappend singles [u16 $s]
        if {$s eq ""} { lappend leads $b }
    }
    puts "S [join $singles { }]"
    foreach lead $leads {
        set row {}
        for {set t 0} {$t < 256} {incr t} {
            lappend row [u16 [encoding convertfrom $enc [binary format cc $lead $t]]]
        }
        puts "P $lead [join $row { }]"
    }
    if {[llength $leads] == 0} {
        set type S
    } elseif {[llength $leads] == 256} {
        set type D
    } else {
        set type M
    }
    puts "T $type"
    if {$type eq "M"} {
        puts "B [binary encode hex [encoding convertto $enc $bmpSep]]"
    } else {
        puts "B [binary encode hex [encoding convertto $enc $bmp]]"
    }
}
