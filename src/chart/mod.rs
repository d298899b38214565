//! Charts drawn with plotters, generic over the backend: the same drawing code makes SVG and PNG.
//! Charts take data, never a path; they return the encoded bytes.
//!
//! PNG text is rendered with an embedded Liberation Sans (SIL OFL, `assets/fonts/`), so charts
//! look the same on a CI host without system fonts.

pub mod trend;
pub mod waterfall;

use std::sync::Once;

use image::ImageEncoder;
use plotters::prelude::*;

/// The family name charts use; registered once with the embedded font.
pub const FONT: &str = "sans-serif";

pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/LiberationSans-Regular.ttf");
        // The font is bundled and known good; failure here is a packaging bug.
        plotters::style::register_font(FONT, FontStyle::Normal, bytes)
            .unwrap_or_else(|_| panic!("embedded font failed to load"));
    });
}

/// Image formats a chart can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Svg,
    Png,
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Svg => "svg",
            ImageFormat::Png => "png",
        }
    }

    /// From a file name's extension: `.svg` or `.png`.
    pub fn from_path(path: &std::path::Path) -> Option<ImageFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "svg" => Some(ImageFormat::Svg),
            "png" => Some(ImageFormat::Png),
            _ => None,
        }
    }
}

pub type ChartError = Box<dyn std::error::Error + Send + Sync>;

/// Draws on an SVG canvas of `size` and returns the document.
pub fn svg(
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<(), ChartError>,
) -> Result<Vec<u8>, ChartError> {
    register_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw(root)?;
    }
    Ok(out.into_bytes())
}

/// Draws on an RGB bitmap of `size` and returns it encoded as PNG.
pub fn png(
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<BitMapBackend, plotters::coord::Shift>) -> Result<(), ChartError>,
) -> Result<Vec<u8>, ChartError> {
    register_font();
    let mut rgb = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(root)?;
    }
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(
        &rgb,
        size.0,
        size.1,
        image::ColorType::Rgb8,
    )?;
    Ok(out)
}
