//! Choosing where tensors live: wgpu (Vulkan/Metal/DX12 natively, WebGPU in the browser) or the
//! flex CPU backend, with a description of the adapter for the user.

use burn::prelude::Device;
#[cfg(not(target_family = "wasm"))]
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceChoice {
    /// wgpu when a hardware adapter exists, else the CPU backend.
    Auto,
    Cpu,
    Wgpu,
}

impl std::str::FromStr for DeviceChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "wgpu" | "gpu" | "webgpu" => Ok(Self::Wgpu),
            other => {
                Err(Error::Invalid(format!("unknown device '{other}': expected cpu, wgpu or auto")))
            }
        }
    }
}

/// A device ready for tensors, and what it is in words.
#[derive(Clone, Debug)]
pub struct ComputeDevice {
    pub device: Device,
    /// E.g. "wgpu/Vulkan: NVIDIA H100 (discrete GPU)" or "cpu (flex)".
    pub description: String,
    /// True for the CPU backend and for software GPU adapters (lavapipe, SwiftShader).
    pub is_software: bool,
}

impl ComputeDevice {
    pub fn cpu() -> Self {
        Self { device: Device::flex(), description: "cpu (flex backend)".into(), is_software: true }
    }
}

#[cfg(any(feature = "wgpu", target_family = "wasm"))]
fn describe(info: &burn::tensor::wgpu::wgpu::AdapterInfo) -> (String, bool) {
    use burn::tensor::wgpu::wgpu::DeviceType;
    let (kind, software) = match info.device_type {
        DeviceType::DiscreteGpu => ("discrete GPU", false),
        DeviceType::IntegratedGpu => ("integrated GPU", false),
        DeviceType::VirtualGpu => ("virtual GPU", false),
        DeviceType::Cpu => ("software renderer on the CPU", true),
        DeviceType::Other => ("unknown adapter type", false),
    };
    let name = if info.name.is_empty() { "adapter name hidden" } else { info.name.as_str() };
    (format!("wgpu/{:?}: {name} ({kind})", info.backend), software)
}

/// The native wgpu device, set up once per process (the wgpu runtime can be initialised once).
#[cfg(all(feature = "wgpu", not(target_family = "wasm")))]
fn native_wgpu() -> &'static std::result::Result<ComputeDevice, String> {
    static WGPU: OnceLock<std::result::Result<ComputeDevice, String>> = OnceLock::new();
    WGPU.get_or_init(|| {
        // Adapter discovery can panic inside drivers; treat that as "no adapter".
        std::panic::catch_unwind(|| Device::wgpu_options().init_with_setup())
            .map_err(|_| "the wgpu runtime panicked while looking for an adapter".to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
            .map(|(device, setup)| {
                let (description, is_software) = describe(&setup.adapter.get_info());
                ComputeDevice { device, description, is_software }
            })
    })
}

/// Without the `wgpu` feature there is no GPU backend to set up.
#[cfg(all(not(feature = "wgpu"), not(target_family = "wasm")))]
fn native_wgpu() -> &'static std::result::Result<ComputeDevice, String> {
    static NONE: OnceLock<std::result::Result<ComputeDevice, String>> = OnceLock::new();
    NONE.get_or_init(|| Err("this alignmap was built without the wgpu feature".into()))
}

/// Gives back the device memory that nothing holds any more. Call it after dropping a network
/// (or a run's tensors): wgpu's pools keep freed pages for reuse until asked, so without it a
/// network unloaded from a GPU stays reserved there. The CPU backend has nothing to give back.
pub fn release_unused(device: &Device) {
    device.memory_cleanup();
}

/// Sets up the requested device natively.
#[cfg(not(target_family = "wasm"))]
pub fn select(choice: DeviceChoice) -> Result<ComputeDevice> {
    if choice == DeviceChoice::Cpu {
        return Ok(ComputeDevice::cpu());
    }
    match (choice, native_wgpu()) {
        (DeviceChoice::Wgpu, Ok(d)) => Ok(d.clone()),
        (DeviceChoice::Wgpu, Err(e)) => Err(Error::Device(format!("no wgpu adapter: {e}"))),
        (_, Ok(d)) if !d.is_software => Ok(d.clone()),
        (_, Ok(d)) => {
            let mut cpu = ComputeDevice::cpu();
            cpu.description = format!(
                "{} (the only wgpu adapter, {}, is a software renderer; --device wgpu uses it)",
                cpu.description, d.description
            );
            Ok(cpu)
        }
        (_, Err(e)) => {
            let mut cpu = ComputeDevice::cpu();
            cpu.description = format!("{} (no wgpu adapter: {e})", cpu.description);
            Ok(cpu)
        }
    }
}

/// Sets up the requested device in the browser: WebGPU, or the CPU backend in wasm.
#[cfg(target_family = "wasm")]
pub async fn select_web(choice: DeviceChoice) -> Result<ComputeDevice> {
    use burn::tensor::wgpu::WgpuBackend;
    if choice == DeviceChoice::Cpu {
        WEB_GPU.with(|gpu| *gpu.borrow_mut() = None);
        return Ok(ComputeDevice::cpu());
    }
    let (device, setup) = Device::wgpu_options()
        .graphics_api(WgpuBackend::WebGpu)
        .init_with_setup_async()
        .await
        .map_err(|e| Error::Device(format!("WebGPU is not available: {e}")))?;
    let (description, is_software) = describe(&setup.adapter.get_info());
    WEB_GPU.with(|gpu| *gpu.borrow_mut() = Some(setup.device));
    Ok(ComputeDevice { device, description, is_software })
}

#[cfg(target_family = "wasm")]
thread_local! {
    /// The WebGPU device of the last [`select_web`] that chose it: its limits, and its `lost`
    /// promise, which the page watches.
    static WEB_GPU: std::cell::RefCell<Option<burn::tensor::wgpu::wgpu::Device>> =
        const { std::cell::RefCell::new(None) };
}

/// The WebGPU device [`select_web`] set up last, if any (wgpu's handle on the browser's
/// `GPUDevice`).
#[cfg(target_family = "wasm")]
pub fn web_gpu() -> Option<burn::tensor::wgpu::wgpu::Device> {
    WEB_GPU.with(|gpu| gpu.borrow().clone())
}
