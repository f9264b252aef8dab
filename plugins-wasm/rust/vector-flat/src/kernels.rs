//! Distance kernels. Scalar (v1) and simd128 (v2) must give bit-identical
//! distances so probes do not change across a hot reload, so both follow one
//! summation order: four lane accumulators, lane j summing the terms of the
//! elements i with i % 4 == j in increasing i (the dim % 4 tail included),
//! combined as (l0 + l1) + (l2 + l3). Every step is a plain IEEE f32 add or
//! multiply (wasm has no fused multiply-add), so the bits agree.

/// Which implementation a component variant uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Scalar,
    Simd128,
}

/// Squared L2 distance.
pub fn l2(kernel: Kernel, a: &[f32], b: &[f32]) -> f32 {
    match kernel {
        Kernel::Scalar => l2_scalar(a, b),
        #[cfg(target_arch = "wasm32")]
        // SAFETY: simd128 is part of the component's instruction set; the v2
        // components are only loaded by engines that validate it.
        Kernel::Simd128 => unsafe { simd::l2(a, b) },
        #[cfg(not(target_arch = "wasm32"))]
        Kernel::Simd128 => l2_scalar(a, b),
    }
}

/// Squared L2 distances from `q` to four rows at once. The simd128 kernel
/// runs the four rows' accumulator chains side by side (each row keeps the
/// shared summation order, so the bits still match [`l2`]); that hides the
/// add latency a single chain is bound by.
pub fn l2_x4(kernel: Kernel, q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
    #[cfg(target_arch = "wasm32")]
    if kernel == Kernel::Simd128 && rows.iter().all(|r| r.len() == q.len()) {
        // SAFETY: as for `l2`; all rows have q's length.
        return unsafe { simd::l2_x4(q, rows) };
    }
    rows.map(|r| l2(kernel, q, r))
}

/// Dot products of `q` with four rows at once (see [`l2_x4`]).
pub fn dot_x4(kernel: Kernel, q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
    #[cfg(target_arch = "wasm32")]
    if kernel == Kernel::Simd128 && rows.iter().all(|r| r.len() == q.len()) {
        // SAFETY: as for `l2`; all rows have q's length.
        return unsafe { simd::dot_x4(q, rows) };
    }
    rows.map(|r| dot(kernel, q, r))
}

/// Dot product a·b.
pub fn dot(kernel: Kernel, a: &[f32], b: &[f32]) -> f32 {
    match kernel {
        Kernel::Scalar => dot_scalar(a, b),
        #[cfg(target_arch = "wasm32")]
        // SAFETY: as for `l2`.
        Kernel::Simd128 => unsafe { simd::dot(a, b) },
        #[cfg(not(target_arch = "wasm32"))]
        Kernel::Simd128 => dot_scalar(a, b),
    }
}

/// |a|² in the shared lane order; computed once per stored vector and per
/// query row, so the scalar form serves every variant.
pub fn norm_sq(a: &[f32]) -> f32 {
    dot_scalar(a, a)
}

/// `1 - dot / (sqrt(|a|²) * sqrt(|b|²))`; a zero norm gives distance 1.
pub fn cosine_from(dot: f32, norm_a: f32, norm_b: f32) -> f32 {
    if norm_a == 0.0 || norm_b == 0.0 {
        1.0
    } else {
        1.0 - dot / (norm_a.sqrt() * norm_b.sqrt())
    }
}

fn combine(l: [f32; 4]) -> f32 {
    (l[0] + l[1]) + (l[2] + l[3])
}

fn l2_scalar(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let full = n / 4 * 4;
    let mut lanes = [0f32; 4];
    for (ca, cb) in a[..full].chunks_exact(4).zip(b[..full].chunks_exact(4)) {
        for j in 0..4 {
            let d = ca[j] - cb[j];
            lanes[j] += d * d;
        }
    }
    for j in 0..n - full {
        let d = a[full + j] - b[full + j];
        lanes[j] += d * d;
    }
    combine(lanes)
}

fn dot_scalar(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let full = n / 4 * 4;
    let mut lanes = [0f32; 4];
    for (ca, cb) in a[..full].chunks_exact(4).zip(b[..full].chunks_exact(4)) {
        for j in 0..4 {
            lanes[j] += ca[j] * cb[j];
        }
    }
    for j in 0..n - full {
        lanes[j] += a[full + j] * b[full + j];
    }
    combine(lanes)
}

#[cfg(target_arch = "wasm32")]
mod simd {
    use super::combine;
    use core::arch::wasm32::*;

    fn lanes(v: v128) -> [f32; 4] {
        [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v), f32x4_extract_lane::<3>(v)]
    }

    #[target_feature(enable = "simd128")]
    pub unsafe fn l2(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let full = n / 4 * 4;
        let mut acc = f32x4_splat(0.0);
        let mut i = 0;
        while i < full {
            // SAFETY: i + 4 <= full <= len of both slices; v128_load is unaligned.
            let (va, vb) = unsafe { (v128_load(a.as_ptr().add(i) as *const v128), v128_load(b.as_ptr().add(i) as *const v128)) };
            let d = f32x4_sub(va, vb);
            acc = f32x4_add(acc, f32x4_mul(d, d));
            i += 4;
        }
        let mut l = lanes(acc);
        for j in 0..n - full {
            let d = a[full + j] - b[full + j];
            l[j] += d * d;
        }
        combine(l)
    }

    #[target_feature(enable = "simd128")]
    pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let full = n / 4 * 4;
        let mut acc = f32x4_splat(0.0);
        let mut i = 0;
        while i < full {
            // SAFETY: as in `l2`.
            let (va, vb) = unsafe { (v128_load(a.as_ptr().add(i) as *const v128), v128_load(b.as_ptr().add(i) as *const v128)) };
            acc = f32x4_add(acc, f32x4_mul(va, vb));
            i += 4;
        }
        let mut l = lanes(acc);
        for j in 0..n - full {
            l[j] += a[full + j] * b[full + j];
        }
        combine(l)
    }

    /// `l2` for four rows of q's length (the caller checks the lengths).
    #[target_feature(enable = "simd128")]
    pub unsafe fn l2_x4(q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
        let n = q.len();
        let full = n / 4 * 4;
        let mut acc = [f32x4_splat(0.0); 4];
        let mut i = 0;
        while i < full {
            // SAFETY: i + 4 <= full <= n == every row's length.
            let vq = unsafe { v128_load(q.as_ptr().add(i) as *const v128) };
            for k in 0..4 {
                let v = unsafe { v128_load(rows[k].as_ptr().add(i) as *const v128) };
                let d = f32x4_sub(vq, v);
                acc[k] = f32x4_add(acc[k], f32x4_mul(d, d));
            }
            i += 4;
        }
        let mut out = [0f32; 4];
        for k in 0..4 {
            let mut l = lanes(acc[k]);
            for j in 0..n - full {
                let d = q[full + j] - rows[k][full + j];
                l[j] += d * d;
            }
            out[k] = combine(l);
        }
        out
    }

    /// `dot` for four rows of q's length (the caller checks the lengths).
    #[target_feature(enable = "simd128")]
    pub unsafe fn dot_x4(q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
        let n = q.len();
        let full = n / 4 * 4;
        let mut acc = [f32x4_splat(0.0); 4];
        let mut i = 0;
        while i < full {
            // SAFETY: i + 4 <= full <= n == every row's length.
            let vq = unsafe { v128_load(q.as_ptr().add(i) as *const v128) };
            for k in 0..4 {
                let v = unsafe { v128_load(rows[k].as_ptr().add(i) as *const v128) };
                acc[k] = f32x4_add(acc[k], f32x4_mul(vq, v));
            }
            i += 4;
        }
        let mut out = [0f32; 4];
        for k in 0..4 {
            let mut l = lanes(acc[k]);
            for j in 0..n - full {
                l[j] += q[full + j] * rows[k][full + j];
            }
            out[k] = combine(l);
        }
        out
    }
}
