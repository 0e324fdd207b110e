package render

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"github.com/klauspost/compress/zlib"
	"hash/crc32"
	"image"
	"image/jpeg"
	"sync"
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

// zlibPool recycles compressors; each holds about a megabyte of tables.
var zlibPool sync.Pool

// encodePNG writes an 8-bit RGB PNG. The standard encoder spends most of its
// time trying all five row filters; a chart is mostly flat colour, so this
// one uses one cheap filter per row and zlib's BestSpeed.
func encodePNG(img *image.RGBA) ([]byte, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	var out bytes.Buffer
	out.Grow(w * h / 2)
	out.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 2 // 8-bit truecolour
	writeChunk(&out, "IHDR", ihdr[:])

	// IDAT: reserve the length and type, stream zlib data, then patch.
	start := out.Len()
	out.Write([]byte{0, 0, 0, 0, 'I', 'D', 'A', 'T'})
	zw, ok := zlibPool.Get().(*zlib.Writer)
	if ok {
		zw.Reset(&out)
	} else {
		var err error
		if zw, err = zlib.NewWriterLevel(&out, zlib.BestSpeed); err != nil {
			return nil, err
		}
	}
	defer zlibPool.Put(zw)
	// Row filter: Up (all zeros) when the row repeats the previous one,
	// which is common in flat areas, otherwise Sub, which turns runs of one
	// colour into zeros. Cheaper than trying filters and nearly as small.
	line := make([]byte, 1+3*w)
	var prevRow []byte
	for y := 0; y < h; y++ {
		o := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		src := img.Pix[o : o+4*w : o+4*w]
		if prevRow != nil && bytes.Equal(src, prevRow) {
			line[0] = 2
			clear(line[1:])
		} else {
			line[0] = 1
			var lr, lg, lb byte
			dst := line[1:]
			for x, i := 0, 0; i+3 < len(src); x, i = x+3, i+4 {
				r, g, b := src[i], src[i+1], src[i+2]
				dst[x], dst[x+1], dst[x+2] = r-lr, g-lg, b-lb
				lr, lg, lb = r, g, b
			}
		}
		if _, err := zw.Write(line); err != nil {
			return nil, err
		}
		prevRow = src
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
