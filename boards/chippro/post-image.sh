#!/bin/sh
# The C.H.I.P. Pro's NAND images from U-Boot's outputs, padded with 0xff
# (erased NAND) to whole erase blocks, the way the NAND tools write them:
# the SPL with its ECC is a raw image (each 4 KiB page followed by its
# out-of-band bytes, for nand write.raw), so its erase block is 64 raw
# pages; u-boot.img is written through the ECC, so its erase block is the
# data size. Arguments: the images dir, then the erase block, page and OOB
# sizes in bytes (POST_SCRIPT_ARGS). The SPL must fit in one erase block,
# U-Boot in its 4 MiB partition.
set -eu
images=$1
block=$(($2))
page=$(($3))
oob=$(($4))

# pad IN OUT UNIT MAX: copy IN to OUT, 0xff-padded to a multiple of UNIT
# bytes; fail when that is more than MAX bytes.
pad() {
    size=$(stat -c %s "$1")
    padded=$(( (size + $3 - 1) / $3 * $3 ))
    if [ "$padded" -gt "$4" ]; then
        echo "$1 is $size bytes: more than $4 after padding" >&2
        exit 1
    fi
    cp "$1" "$2.tmp"
    head -c $((padded - size)) /dev/zero | tr '\000' '\377' >>"$2.tmp"
    mv "$2.tmp" "$2"
}

raw_block=$((block / page * (page + oob)))
pad "$images/sunxi-spl-with-ecc.bin" "$images/sunxi-spl-with-ecc-padded.bin" "$raw_block" "$raw_block"
pad "$images/u-boot.img" "$images/u-boot-padded.img" "$block" $((0x400000))
