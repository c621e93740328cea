//! How fast a truck can get from one checkpoint to another: the straight-line distance between
//! their coordinates at a speed no truck exceeds. Roads are never shorter than the straight
//! line and trucks are limited to 100 km/h on expressways, so a pass seen at two checkpoints
//! faster than this bound was in two trucks.

use std::collections::HashMap;

use crate::domain::Place;

/// The speed bound used unless the operator gives another (km/h).
pub const DEFAULT_SPEED_KMH: f64 = 100.0;

const EARTH_RADIUS_KM: f64 = 6371.0;

/// Great-circle distance in kilometres (haversine).
pub fn distance_km(a: &Place, b: &Place) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().clamp(0.0, 1.0).asin()
}

/// The checkpoints' places by code, and the fastest a truck travels between them.
#[derive(Debug, Clone, Default)]
pub struct Travel {
    places: HashMap<String, Place>,
    speed_kmh: f64,
}

impl Travel {
    pub fn new(places: impl IntoIterator<Item = Place>, speed_kmh: f64) -> Travel {
        Travel {
            places: places.into_iter().map(|p| (p.code.clone(), p)).collect(),
            speed_kmh,
        }
    }

    /// The shortest time in seconds a truck needs from `from` to `to`; `None` when either
    /// checkpoint has no coordinates (nothing can be said then).
    pub fn min_secs(&self, from: &str, to: &str) -> Option<i64> {
        let (a, b) = (self.places.get(from)?, self.places.get(to)?);
        if self.speed_kmh <= 0.0 {
            return None;
        }
        Some((distance_km(a, b) / self.speed_kmh * 3600.0).floor() as i64)
    }

    pub fn distance_km(&self, from: &str, to: &str) -> Option<f64> {
        Some(distance_km(self.places.get(from)?, self.places.get(to)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(code: &str, lat: f64, lon: f64) -> Place {
        Place {
            code: code.into(),
            lat,
            lon,
        }
    }

    #[test]
    fn weihai_to_rushan_takes_at_least_forty_minutes() {
        let travel = Travel::new(
            [place("C101", 37.47, 122.08), place("C107", 36.93, 121.53)],
            DEFAULT_SPEED_KMH,
        );
        let km = travel.distance_km("C101", "C107").unwrap();
        assert!((75.0..80.0).contains(&km), "{km}");
        let mins = travel.min_secs("C101", "C107").unwrap() / 60;
        assert!((45..48).contains(&mins), "{mins}");
        assert_eq!(travel.min_secs("C101", "C101"), Some(0));
        assert_eq!(travel.min_secs("C101", "C999"), None);
    }
}
