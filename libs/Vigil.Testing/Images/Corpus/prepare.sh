#!/usr/bin/env bash
# Rebuilds this folder's files from Debian 12 (bookworm) packages and from Vigil's own drawn photos.
# Not run by the tests (they read the committed files); run it by hand after changing this script, then commit.
# Needs: apt-get (after apt-get update), dpkg-deb, imagemagick (convert), libjpeg-turbo-progs (jpegtran),
# and a Release build of bench/Vigil.Bench (for the drawn photos it converts).
set -euo pipefail
convert() { /usr/bin/convert "$@"; } # Debian's ImageMagick, whatever else is on the PATH
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

apt-get download python3-skimage=0.19.3-8 python-matplotlib-data=3.6.3-1 >/dev/null
for deb in ./*.deb; do dpkg-deb -x "$deb" x; done
S=x/usr/lib/python3/dist-packages/skimage/data
M=x/usr/share/matplotlib/mpl-data/sample_data

# Real photographs. Anything under the service's minimum (640x480 after orientation) is enlarged just enough
# (Mitchell filter), as a webcam driver or a messaging app would; metadata is stripped; JPEG quality 90, 4:2:0.
jpeg() { convert "$1" -strip -filter Mitchell -resize "$2!" -sampling-factor 4:2:0 -quality 90 "$here/$3"; }
jpeg "$S/astronaut.png"      640x640  real-astronaut.jpg
jpeg "$M/grace_hopper.jpg"   546x640  real-grace-hopper.jpg
jpeg "$S/camera.png"         640x640  real-cameraman.jpg      # a greyscale (one-component) JPEG
jpeg "$S/coffee.png"         720x480  real-coffee.jpg
jpeg "$S/chelsea.png"        722x480  real-chelsea.jpg
jpeg "$S/rocket.jpg"         719x480  real-rocket-at-dusk.jpg
jpeg "$S/page.png"           965x480  real-book-page.jpg
jpeg "$S/text.png"           1250x480 real-handwriting.jpg
jpeg "$S/clock_motion.png"   640x480  real-clock-motion-blur.jpg
# The thumbnail stays at its own size (451x300): under the minimum on purpose.
convert "$S/chelsea.png" -strip -sampling-factor 4:2:0 -quality 90 "$here/real-chelsea-thumbnail.jpg"
# A rendered text page, as a scanner's PNG (white is exactly 255).
convert "$S/bw_text.png" -strip -filter Mitchell -resize '744x480!' "$here/real-text-scan.png"
# The same real photos in the other files learners send: progressive JPEG (lossless transcoding) and CMYK JPEG.
jpegtran -progressive -copy none "$here/real-coffee.jpg" > "$here/real-coffee-progressive.jpg"
convert "$here/real-grace-hopper.jpg" -colorspace CMYK -quality 90 "$here/real-grace-hopper-cmyk.jpg"

# Vigil's drawn white ID card, filling the frame and one stop over (the photo of the issue: text crisp, the card
# clipped white), converted to the two JPEG forms SkiaSharp cannot write: progressive and CMYK.
dotnet "$root/bench/Vigil.Bench/bin/Release/net10.0/Vigil.Bench.dll" photo-stages --export "$work/drawn" >/dev/null
convert "$work/drawn/white-card-bright.png" -sampling-factor 4:2:0 -quality 90 -interlace JPEG "$here/drawn-white-card-bright-progressive.jpg"
convert "$work/drawn/white-card-bright.png" -colorspace CMYK -quality 90 "$here/drawn-white-card-bright-cmyk.jpg"
convert "$work/drawn/pastel-passport.png" -sampling-factor 4:2:0 -quality 88 -interlace JPEG "$here/drawn-pastel-passport-progressive.jpg"
ls -l "$here"
