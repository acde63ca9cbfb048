#!/bin/sh
# The C.H.I.P. Pro's NAND images from U-Boot's outputs: the SPL (with its
# ECC, for a raw write) and u-boot.img, each padded with 0xff (erased
# NAND) to a whole number of erase blocks, the way the NAND tools write
# them. Arguments: the images dir, then the erase block size in bytes
# (POST_SCRIPT_ARGS). The SPL must fit in one erase block.
set -eu
images=$1
block=$(($2))

# pad IN OUT MAX: copy IN to OUT, 0xff-padded to a multiple of the erase
# block; fail when that is more than MAX bytes.
pad() {
    size=$(stat -c %s "$1")
    padded=$(( (size + block - 1) / block * block ))
    if [ "$padded" -gt "$3" ]; then
        echo "$1 is $size bytes: more than $3 after padding" >&2
        exit 1
    fi
    cp "$1" "$2.tmp"
    head -c $((padded - size)) /dev/zero | tr '\000' '\377' >>"$2.tmp"
    mv "$2.tmp" "$2"
}

pad "$images/sunxi-spl-with-ecc.bin" "$images/sunxi-spl-with-ecc-padded.bin" "$block"
pad "$images/u-boot.img" "$images/u-boot-padded.img" $((0x400000))
