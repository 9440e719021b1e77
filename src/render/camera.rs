//! An orbit camera: a target point, a distance, and two angles. Flying to a place animates the
//! target and distance; everything is a pure function of time so frames are reproducible.

use glam::{Mat4, Vec2, Vec3};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    pub target: Vec3,
    pub distance: f32,
    /// Rotation around the vertical axis, radians (0: looking straight at the panels).
    pub yaw: f32,
    /// Rotation above or below the panels' plane, radians.
    pub pitch: f32,
    /// Vertical field of view, radians.
    pub fov_y: f32,
}

impl Camera {
    /// A camera looking straight at the rectangle `min..max` of the z = 0 plane, fitting it into
    /// a viewport of the given aspect ratio (width / height).
    pub fn framing(min: Vec2, max: Vec2, aspect: f32) -> Camera {
        let fov_y = 45f32.to_radians();
        let size = (max - min).max(Vec2::splat(1.0));
        let half_h = (size.y / 2.0).max(size.x / 2.0 / aspect.max(1e-3)) * 1.08;
        let center = (min + max) / 2.0;
        Camera {
            target: Vec3::new(center.x, center.y, 0.0),
            distance: half_h / (fov_y / 2.0).tan(),
            yaw: 0.0,
            pitch: 0.0,
            fov_y,
        }
    }

    /// A camera at `yaw` and `pitch` (radians) that fills a viewport of the given aspect ratio
    /// with the box `min..max` (x, y) by `depth` (from z = 0 back): the distance is searched for,
    /// and the target moved so that the box's picture is centred.
    pub fn fit(min: Vec2, max: Vec2, depth: f32, yaw: f32, pitch: f32, aspect: f32) -> Camera {
        // A view squeezed to nothing (a window shrunk under its panels) still gets a camera.
        let aspect = match aspect.is_finite() && aspect > 0.0 {
            true => aspect.clamp(1e-3, 1e3),
            false => 1.0,
        };
        let mut camera = Camera::framing(min, max, aspect);
        camera.yaw = yaw;
        camera.pitch = pitch;
        camera.target.z = -depth / 2.0;
        let corners: Vec<Vec3> = (0..8)
            .map(|i| {
                Vec3::new(
                    if i & 1 == 0 { min.x } else { max.x },
                    if i & 2 == 0 { min.y } else { max.y },
                    if i & 4 == 0 { 0.0 } else { -depth },
                )
            })
            .collect();
        // The picture's extent in normalised device coordinates (None if a corner is behind).
        let extent = |c: &Camera| -> Option<(Vec2, Vec2)> {
            let view_proj = c.view_proj(aspect);
            let mut lo = Vec2::splat(f32::MAX);
            let mut hi = Vec2::splat(f32::MIN);
            for corner in &corners {
                let clip = view_proj * corner.extend(1.0);
                if clip.w <= 1e-6 {
                    return None;
                }
                let ndc = Vec2::new(clip.x, clip.y) / clip.w;
                lo = lo.min(ndc);
                hi = hi.max(ndc);
            }
            Some((lo, hi))
        };
        for _ in 0..3 {
            // Largest distance that still fits, then centre: a few rounds settle both.
            let (mut near, mut far) = (camera.distance * 0.05, camera.distance * 4.0);
            for _ in 0..40 {
                let mid = (near + far) / 2.0;
                let trial = Camera {
                    distance: mid,
                    ..camera
                };
                let fits = extent(&trial).is_some_and(|(lo, hi)| {
                    lo.cmpge(Vec2::splat(-0.96)).all() && hi.cmple(Vec2::splat(0.96)).all()
                });
                if fits {
                    far = mid;
                } else {
                    near = mid;
                }
            }
            camera.distance = far;
            let Some((lo, hi)) = extent(&camera) else {
                break;
            };
            let off_center = (lo + hi) / 2.0;
            let world_per_ndc = camera.distance * (camera.fov_y / 2.0).tan();
            let forward = (camera.target - camera.eye()).normalize();
            let right = forward.cross(Vec3::Y).normalize_or_zero();
            let up = right.cross(forward);
            camera.target += (right * off_center.x * aspect + up * off_center.y) * world_per_ndc;
        }
        camera
    }

    pub fn eye(&self) -> Vec3 {
        let dir = Vec3::new(
            self.yaw.sin() * self.pitch.cos(),
            self.pitch.sin(),
            self.yaw.cos() * self.pitch.cos(),
        );
        self.target + dir * self.distance
    }

    pub fn view_proj(&self, aspect: f32) -> Mat4 {
        let view = Mat4::look_at_rh(self.eye(), self.target, Vec3::Y);
        let near = (self.distance * 0.001).max(1e-3);
        let far = self.distance * 10.0 + 1e4;
        Mat4::perspective_rh(self.fov_y, aspect, near, far) * view
    }

    /// The world point of the z = 0 plane under a viewport position (pixels from the top left).
    pub fn ray_to_plane(&self, pixel: Vec2, viewport: Vec2) -> Option<Vec3> {
        let ndc = Vec2::new(
            2.0 * pixel.x / viewport.x - 1.0,
            1.0 - 2.0 * pixel.y / viewport.y,
        );
        let inverse = self.view_proj(viewport.x / viewport.y).inverse();
        let near = inverse.project_point3(ndc.extend(0.0));
        let far = inverse.project_point3(ndc.extend(1.0));
        let dir = far - near;
        if dir.z.abs() < 1e-9 {
            return None;
        }
        let t = -near.z / dir.z;
        (t > 0.0).then(|| near + dir * t)
    }

    /// Where a world point lands in the viewport, in pixels from the top left; `None` behind the
    /// camera.
    pub fn project(&self, point: Vec3, viewport: Vec2) -> Option<Vec2> {
        let clip = self.view_proj(viewport.x / viewport.y) * point.extend(1.0);
        if clip.w <= 0.0 {
            return None;
        }
        let ndc = clip.truncate() / clip.w;
        Some(Vec2::new(
            (ndc.x + 1.0) / 2.0 * viewport.x,
            (1.0 - ndc.y) / 2.0 * viewport.y,
        ))
    }

    /// Orbits by a mouse drag of `delta` pixels.
    pub fn orbit(&mut self, delta: Vec2) {
        self.yaw -= delta.x * 0.005;
        self.pitch = (self.pitch + delta.y * 0.005).clamp(-1.45, 1.45);
    }

    /// Pans by a drag of `delta` pixels, keeping the point under the cursor under it.
    pub fn pan(&mut self, delta: Vec2, viewport: Vec2) {
        let world_per_pixel = 2.0 * self.distance * (self.fov_y / 2.0).tan() / viewport.y;
        let forward = (self.target - self.eye()).normalize();
        let right = forward.cross(Vec3::Y).normalize_or_zero();
        let up = right.cross(forward);
        self.target += (-right * delta.x + up * delta.y) * world_per_pixel;
    }

    /// Zooms by `steps` (positive: closer), towards the world point under the cursor if given.
    pub fn zoom(&mut self, steps: f32, towards: Option<Vec3>) {
        let factor = 0.85f32.powf(steps);
        if let Some(point) = towards {
            self.target = point + (self.target - point) * factor;
        }
        self.distance = (self.distance * factor).max(0.5);
    }

    /// The camera `t` (0..1) of the way from `self` to `other`, eased.
    pub fn lerp(&self, other: &Camera, t: f32) -> Camera {
        let s = t.clamp(0.0, 1.0);
        let s = s * s * (3.0 - 2.0 * s);
        Camera {
            target: self.target.lerp(other.target, s),
            distance: self.distance + (other.distance - self.distance) * s,
            yaw: self.yaw + (other.yaw - self.yaw) * s,
            pitch: self.pitch + (other.pitch - self.pitch) * s,
            fov_y: self.fov_y + (other.fov_y - self.fov_y) * s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_a_view_of_no_size_still_gives_a_camera() {
        let (min, max) = (Vec2::new(-10.0, -40.0), Vec2::new(30.0, 5.0));
        for aspect in [0.0, f32::NAN, f32::INFINITY, -1.0, 1e-9] {
            let camera = Camera::fit(min, max, 2.0, 0.3, 0.2, aspect);
            assert!(
                camera.target.is_finite() && camera.distance.is_finite(),
                "{aspect}"
            );
        }
    }

    #[test]
    fn a_fitted_box_fills_the_view() {
        let (min, max) = (Vec2::new(0.0, -90.0), Vec2::new(160.0, 0.0));
        let camera = Camera::fit(min, max, 4.0, 0.3, 0.25, 16.0 / 9.0);
        let viewport = Vec2::new(1600.0, 900.0);
        let corners = [
            (min.x, min.y),
            (max.x, min.y),
            (min.x, max.y),
            (max.x, max.y),
        ];
        let points: Vec<Vec2> = corners
            .iter()
            .map(|&(x, y)| camera.project(Vec3::new(x, y, 0.0), viewport).unwrap())
            .collect();
        let (lo, hi) = points.iter().fold((Vec2::MAX, Vec2::MIN), |(lo, hi), p| {
            (lo.min(*p), hi.max(*p))
        });
        // Inside the view, and filling it along one side to within a tenth.
        assert!(
            lo.cmpge(Vec2::ZERO).all() && hi.cmple(viewport).all(),
            "{lo} {hi}"
        );
        let filled = (hi - lo) / viewport;
        assert!(filled.max_element() > 0.9, "{filled}");
    }
}
