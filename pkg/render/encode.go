package render

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
)

// encode turns the opaque canvas into PNG (default) or JPEG bytes, falling
// back to JPEG at decreasing quality when a PNG would exceed o.MaxBytes.
func encode(img *image.RGBA, o Options) (*Image, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if o.Format == "png" {
		b, err := encodePNG(img)
		if err != nil {
			return nil, err
		}
		if len(b) <= o.MaxBytes {
			return &Image{Bytes: b, ContentType: "image/png", Width: w, Height: h}, nil
		}
	}
	for _, q := range []int{o.JPEGQuality, 75, 60, 45, 30} {
		if q > o.JPEGQuality {
			continue
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
			return nil, fmt.Errorf("render: encode JPEG: %w", err)
		}
		if buf.Len() <= o.MaxBytes {
			return &Image{Bytes: buf.Bytes(), ContentType: "image/jpeg", Width: w, Height: h}, nil
		}
	}
	return nil, fmt.Errorf("%w: the %d×%d image does not fit in %d bytes even as a low-quality JPEG", ErrTooLarge, w, h, o.MaxBytes)
}

// encodePNG writes an 8-bit RGB PNG. The standard encoder spends most of its
// time trying all five row filters; a chart is mostly flat colour, so this
// one picks Sub or Up per row by a cheap sum-of-residuals estimate and uses
// zlib's BestSpeed. It is about twice as fast for a few percent more bytes.
func encodePNG(img *image.RGBA) ([]byte, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	var out bytes.Buffer
	out.Grow(w * h / 3)
	out.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 2 // 8-bit truecolour
	writeChunk(&out, "IHDR", ihdr[:])

	// IDAT: reserve the length and type, stream zlib data, then patch.
	start := out.Len()
	out.Write([]byte{0, 0, 0, 0, 'I', 'D', 'A', 'T'})
	zw, err := zlib.NewWriterLevel(&out, zlib.BestSpeed)
	if err != nil {
		return nil, err
	}
	stride := 3 * w
	prev := make([]byte, stride)
	cur := make([]byte, stride)
	sub := make([]byte, stride+1)
	up := make([]byte, stride+1)
	for y := 0; y < h; y++ {
		src := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):]
		for x, i := 0, 0; x < w; x, i = x+1, i+4 {
			cur[3*x], cur[3*x+1], cur[3*x+2] = src[i], src[i+1], src[i+2]
		}
		sub[0], up[0] = 1, 2
		var costSub, costUp int
		for i := 0; i < stride; i++ {
			var left byte
			if i >= 3 {
				left = cur[i-3]
			}
			s := cur[i] - left
			u := cur[i] - prev[i]
			sub[i+1], up[i+1] = s, u
			costSub += absSigned(s)
			costUp += absSigned(u)
		}
		row := sub
		if y > 0 && costUp < costSub {
			row = up
		}
		if _, err := zw.Write(row); err != nil {
			return nil, err
		}
		prev, cur = cur, prev
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	b := out.Bytes()
	n := len(b) - start - 8
	binary.BigEndian.PutUint32(b[start:], uint32(n))
	crc := crc32.ChecksumIEEE(b[start+4:])
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc)
	out.Write(tail[:])
	writeChunk(&out, "IEND", nil)
	return out.Bytes(), nil
}

func absSigned(b byte) int {
	if b < 128 {
		return int(b)
	}
	return 256 - int(b)
}

func writeChunk(out *bytes.Buffer, typ string, data []byte) {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(data)))
	copy(hdr[4:], typ)
	out.Write(hdr[:])
	out.Write(data)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	var c [4]byte
	binary.BigEndian.PutUint32(c[:], crc.Sum32())
	out.Write(c[:])
}
