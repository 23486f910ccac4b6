//! Inspectors' photos: checked before they are decoded, decoded within limits, turned upright,
//! shrunk and written again as JPEG — which keeps no EXIF, so no location leaves the inspector's
//! phone. One photo is read and decoded at a time ([`slot`]): four arriving together wait their
//! turn, their bodies unread, instead of holding four camera pictures in memory at once.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// The longest side a stored photo keeps.
pub const MAX_SIDE: u32 = 1600;
/// The most pixels a photo may have (a 48-megapixel camera's).
pub const MAX_PIXELS: u64 = 50_000_000;
/// The widest or tallest a photo may be.
pub const MAX_DIMENSION: u32 = 12_000;

/// A photo as stored: JPEG, at most [`MAX_SIDE`] a side.
#[derive(Debug, Clone)]
pub struct Shrunk {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Why a photo is refused (for the person who sent it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PhotoRefused(pub String);

static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// The turn to read and shrink one photo: the server takes it before it reads an upload's body.
pub async fn slot() -> Result<tokio::sync::SemaphorePermit<'static>, crate::AppError> {
    SLOTS.acquire().await.map_err(|e| crate::AppError::internal("photo slots closed", e))
}

/// Shrinks `bytes` on a blocking thread (the caller holds a [`slot`] when photos may arrive
/// together).
pub async fn shrink(bytes: Vec<u8>) -> Result<Result<Shrunk, PhotoRefused>, crate::AppError> {
    tokio::task::spawn_blocking(move || shrink_now(&bytes))
        .await
        .map_err(|e| crate::AppError::internal("shrinking a photo", e))
}

/// Reads the format and the size from the header first: anything but a JPEG, PNG or WebP, or a
/// picture bigger than the limits (a decompression bomb among them), is refused before a pixel
/// is decoded; the decoder then works within an allocation limit too.
pub fn shrink_now(bytes: &[u8]) -> Result<Shrunk, PhotoRefused> {
    let not_image = || PhotoRefused("不是可识别的图片（应为 JPEG、PNG 或 WebP 照片）".into());
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| not_image())?;
    if !matches!(reader.format(), Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) {
        return Err(not_image());
    }
    let too_big =
        || PhotoRefused(format!("图片尺寸过大（不超过 {MAX_DIMENSION} 像素见方、{} 万像素）", MAX_PIXELS / 10_000));
    let (width, height) = reader.into_dimensions().map_err(|e| match e {
        image::ImageError::Limits(_) => too_big(),
        _ => not_image(),
    })?;
    if width == 0 || height == 0 {
        return Err(not_image());
    }
    if width > MAX_DIMENSION || height > MAX_DIMENSION || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PhotoRefused(format!(
            "图片尺寸 {width}×{height} 过大（不超过 {MAX_DIMENSION} 像素见方、{} 万像素）",
            MAX_PIXELS / 10_000
        )));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (16 << 20));
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| not_image())?;
    let format = reader.format();
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| not_image())?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = match format {
        // A JPEG is decoded straight at the smallest scale that still covers MAX_SIDE.
        Some(ImageFormat::Jpeg) => {
            drop(decoder);
            scaled_jpeg(bytes, width, height).map_err(|e| PhotoRefused(format!("图片无法读取：{e}")))?
        }
        _ => DynamicImage::from_decoder(decoder).map_err(|e| PhotoRefused(format!("图片无法读取：{e}")))?,
    };
    picture.apply_orientation(orientation);
    if picture.width() > MAX_SIDE || picture.height() > MAX_SIDE {
        // Area averaging in integers: no floating-point copy of the whole picture.
        picture = picture.thumbnail(MAX_SIDE, MAX_SIDE);
    }
    let rgb = picture.to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 82)
        .encode_image(&rgb)
        .map_err(|e| PhotoRefused(format!("图片无法保存：{e}")))?;
    Ok(Shrunk { jpeg, width: rgb.width(), height: rgb.height() })
}

/// Decodes a JPEG at 1/1, 1/2, 1/4 or 1/8 of its size, whichever is the smallest that keeps
/// its longer side at least [`MAX_SIDE`] (so a 4000 × 3000 picture is decoded as 2000 × 1500).
fn scaled_jpeg(bytes: &[u8], width: u32, height: u32) -> Result<DynamicImage, String> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(|e| e.to_string())?;
    let longer = width.max(height).max(1);
    let wanted =
        |side: u32| ((u64::from(side) * u64::from(MAX_SIDE)).div_ceil(u64::from(longer))).min(u64::from(side)) as u16;
    let (w, h) = decoder.scale(wanted(width), wanted(height)).map_err(|e| e.to_string())?;
    let pixels = decoder.decode().map_err(|e| e.to_string())?;
    let info = decoder.info().ok_or("no header")?;
    let (w, h) = (u32::from(w), u32::from(h));
    let bad = || "像素数据不完整".to_string();
    Ok(match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, pixels).ok_or_else(bad)?)
        }
        jpeg_decoder::PixelFormat::L8 => {
            DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, pixels).ok_or_else(bad)?)
        }
        jpeg_decoder::PixelFormat::L16 => {
            let wide: Vec<u16> = pixels.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
            DynamicImage::ImageLuma16(image::ImageBuffer::from_raw(w, h, wide).ok_or_else(bad)?)
        }
        jpeg_decoder::PixelFormat::CMYK32 => {
            let rgb: Vec<u8> = pixels
                .chunks_exact(4)
                .flat_map(|p| {
                    let k = u16::from(255 - p[3]);
                    [p[0], p[1], p[2]].map(|c| ((u16::from(255 - c) * k) / 255) as u8)
                })
                .collect();
            DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, rgb).ok_or_else(bad)?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let picture =
            image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 251) as u8, (y % 241) as u8, 90]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&picture).unwrap();
        out
    }

    /// A JPEG with an EXIF segment (APP1) holding a GPS position, as phones write them.
    fn with_exif(jpeg: &[u8]) -> Vec<u8> {
        let payload = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 20.0440 N";
        let mut out = jpeg[..2].to_vec();
        out.extend([0xFF, 0xE1]);
        out.extend(((payload.len() + 2) as u16).to_be_bytes());
        out.extend(payload);
        out.extend(&jpeg[2..]);
        out
    }

    #[test]
    fn a_camera_photo_is_shrunk_and_loses_its_exif() {
        let original = with_exif(&jpeg(4000, 3000));
        assert!(original.windows(4).any(|w| w == b"Exif"));
        let s = shrink_now(&original).unwrap();
        assert_eq!((s.width, s.height), (1600, 1200));
        assert!(!s.jpeg.windows(4).any(|w| w == b"Exif"), "no EXIF, so no location");
        assert!(s.jpeg.len() < original.len());
        let small = shrink_now(&jpeg(800, 600)).unwrap();
        assert_eq!((small.width, small.height), (800, 600), "a small one keeps its size");
    }

    /// The CRC of a PNG chunk (ISO 3309), bit by bit.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn what_is_not_a_photo_or_too_big_is_refused_before_decoding() {
        assert!(shrink_now(b"%PDF-1.4 not a photo").unwrap_err().0.contains("不是可识别的图片"));
        // A PNG header claiming 60000 x 60000 pixels (a decompression bomb): refused from the
        // header, nothing decoded.
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(60_000u32.to_be_bytes());
        ihdr.extend(60_000u32.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\r".to_vec();
        bomb.extend(&ihdr);
        bomb.extend(crc32(&ihdr).to_be_bytes());
        bomb.extend([0, 0, 0, 0]);
        bomb.extend(b"IDAT");
        assert!(shrink_now(&bomb).unwrap_err().0.contains("过大"), "{:?}", shrink_now(&bomb));
        let mut cut = jpeg(400, 300);
        cut.truncate(200);
        assert!(shrink_now(&cut).is_err(), "a truncated photo");
    }
}
