// Native Verilator harness for the accelerator top (the rtl-fast device).
//
// The Verilated design (class Vdut, from `verilator --cc --prefix Vdut`) with:
//   - a DRAM model: an AXI4 slave over a flat byte array, with the timing contract of
//     sim/dram_timing.py (read: first beat `read_latency` cycles after the AR handshake, then one
//     beat per cycle while RREADY; write: B `write_latency` cycles after the last W beat; up to
//     4 outstanding read and 4 outstanding write bursts, served in order);
//   - an AXI4-Lite master for the control registers;
//   - the cycle loop in C++ (two evals per cycle: inputs are driven and combinational logic
//     settles with the clock low, handshakes are sampled, then the rising edge).
// Everything is reached from Python through the extern "C" functions at the end (ctypes).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <deque>
#include <vector>

#include "Vdut.h"
#include "verilated.h"
#if TH_TRACE
#include "verilated_vcd_c.h"
#endif

#ifndef BUS_BITS
#define BUS_BITS 64
#endif

namespace {

constexpr uint32_t BUS_BYTES = BUS_BITS / 8;
constexpr size_t RQ_DEPTH = 4;
constexpr size_t WQ_DEPTH = 4;
constexpr uint8_t RESP_OKAY = 0;
constexpr uint8_t RESP_SLVERR = 2;

template <typename T>
inline void put_bus(T& dst, const uint8_t* src) {
    std::memset(&dst, 0, sizeof(T));
    std::memcpy(&dst, src, sizeof(T) < BUS_BYTES ? sizeof(T) : BUS_BYTES);
}

template <typename T>
inline void get_bus(const T& src, uint8_t* dst) {
    std::memcpy(dst, &src, sizeof(T) < BUS_BYTES ? sizeof(T) : BUS_BYTES);
}

template <typename T>
inline uint64_t as_u64(const T& v) {
    uint64_t out = 0;
    std::memcpy(&out, &v, sizeof(T) < 8 ? sizeof(T) : 8);
    return out;
}

struct Burst {
    uint64_t addr;   // byte address of beat 0, aligned to the beat size
    uint32_t beats;
    uint32_t beat;   // next beat
    uint32_t step;   // bytes per beat (2**size)
    uint8_t id;
    uint64_t ready;  // first cycle its data (read) may appear
    bool err;
};

struct BResp {
    uint8_t id;
    uint64_t ready;
    uint8_t resp;
};

enum AxilState { AL_IDLE, AL_WRITE, AL_WAIT_B, AL_READ, AL_WAIT_R };

struct Harness {
    VerilatedContext* ctx = nullptr;
    Vdut* top = nullptr;
#if TH_TRACE
    VerilatedVcdC* tfp = nullptr;
#endif
    uint8_t* mem = nullptr;
    uint64_t size = 0;
    uint64_t read_latency = 1;
    uint64_t write_latency = 1;
    uint64_t now = 0;  // cycles since creation
    std::deque<Burst> rq, wq;
    std::deque<BResp> bq;
    // AXI-Lite master
    AxilState al = AL_IDLE;
    bool al_aw = false, al_w = false, al_ar = false;
    uint32_t al_addr = 0, al_data = 0, al_rdata = 0;
    uint8_t al_resp = 0;
    bool al_done = false;
    // unit-activity timeline: (cycle, events_o) at every change while recording
    bool record = false;
    uint16_t last_events = 0;
    std::vector<uint64_t> ev_cycle;
    std::vector<uint16_t> ev_value;
};

inline uint64_t word_of(const Burst& b) {
    return (b.addr + uint64_t(b.beat) * b.step) & ~uint64_t(BUS_BYTES - 1);
}

Burst make_burst(uint64_t addr, uint32_t len, uint32_t size, uint32_t burst, uint8_t id,
                 uint64_t ready, uint64_t mem_size) {
    Burst b{};
    b.step = 1u << size;
    b.addr = addr & ~uint64_t(b.step - 1);
    b.beats = len + 1;
    b.beat = 0;
    b.id = id;
    b.ready = ready;
    uint64_t total = uint64_t(b.beats) * b.step;
    uint64_t last_word = (b.addr + total - 1) & ~uint64_t(BUS_BYTES - 1);
    bool crosses_4k = (b.addr >> 12) != ((b.addr + total - 1) >> 12);
    b.err = burst != 1 || b.step > BUS_BYTES || crosses_4k || last_word + BUS_BYTES > mem_size;
    return b;
}

void dump(Harness* h, uint64_t half) {
#if TH_TRACE
    if (h->tfp) h->tfp->dump(h->now * 10 + half * 5);
#else
    (void)h;
    (void)half;
#endif
}

// Drive the slave's and the AXI-Lite master's outputs from the current state (Moore).
void drive(Harness* h) {
    Vdut* t = h->top;
    t->m_axi_arready = h->rq.size() < RQ_DEPTH;
    t->m_axi_awready = h->wq.size() < WQ_DEPTH;
    t->m_axi_wready = !h->wq.empty();
    if (!h->rq.empty() && h->rq.front().ready <= h->now) {
        const Burst& b = h->rq.front();
        t->m_axi_rvalid = 1;
        t->m_axi_rid = b.id;
        t->m_axi_rlast = b.beat + 1 == b.beats;
        t->m_axi_rresp = b.err ? RESP_SLVERR : RESP_OKAY;
        static uint8_t zeros[BUS_BYTES] = {0};
        put_bus(t->m_axi_rdata, b.err ? zeros : h->mem + word_of(b));
    } else {
        t->m_axi_rvalid = 0;
        t->m_axi_rlast = 0;
    }
    if (!h->bq.empty() && h->bq.front().ready <= h->now) {
        t->m_axi_bvalid = 1;
        t->m_axi_bid = h->bq.front().id;
        t->m_axi_bresp = h->bq.front().resp;
    } else {
        t->m_axi_bvalid = 0;
    }
    t->s_axil_awvalid = h->al_aw;
    t->s_axil_awaddr = h->al_addr;
    t->s_axil_awprot = 0;
    t->s_axil_wvalid = h->al_w;
    t->s_axil_wdata = h->al_data;
    t->s_axil_wstrb = 0xF;
    t->s_axil_bready = h->al == AL_WAIT_B;
    t->s_axil_arvalid = h->al_ar;
    t->s_axil_araddr = h->al_addr;
    t->s_axil_arprot = 0;
    t->s_axil_rready = h->al == AL_WAIT_R;
}

// Sample the handshakes of this cycle (inputs driven, logic settled) and update the state.
void sample(Harness* h) {
    Vdut* t = h->top;
    const bool ar = t->m_axi_arvalid && t->m_axi_arready;
    const bool r = t->m_axi_rvalid && t->m_axi_rready;
    const bool aw = t->m_axi_awvalid && t->m_axi_awready;
    const bool w = t->m_axi_wvalid && t->m_axi_wready;
    const bool b = t->m_axi_bvalid && t->m_axi_bready;
    if (r) {
        Burst& head = h->rq.front();
        if (++head.beat == head.beats) h->rq.pop_front();
    }
    if (ar) {
        uint64_t lat = h->read_latency > 0 ? h->read_latency : 1;
        h->rq.push_back(make_burst(t->m_axi_araddr, t->m_axi_arlen, t->m_axi_arsize,
                                   t->m_axi_arburst, t->m_axi_arid, h->now + lat, h->size));
    }
    if (w) {
        Burst& head = h->wq.front();
        if (!head.err) {
            uint8_t data[BUS_BYTES + 8];
            get_bus(t->m_axi_wdata, data);
            uint64_t strb = as_u64(t->m_axi_wstrb);
            uint64_t word = word_of(head);
            for (uint32_t i = 0; i < BUS_BYTES; ++i)
                if ((strb >> i) & 1) h->mem[word + i] = data[i];
        }
        if (++head.beat == head.beats) {
            uint64_t lat = h->write_latency > 0 ? h->write_latency : 1;
            h->bq.push_back(BResp{head.id, h->now + lat, head.err ? RESP_SLVERR : RESP_OKAY});
            h->wq.pop_front();
        }
    }
    if (aw) {
        h->wq.push_back(make_burst(t->m_axi_awaddr, t->m_axi_awlen, t->m_axi_awsize,
                                   t->m_axi_awburst, t->m_axi_awid, 0, h->size));
    }
    if (b) h->bq.pop_front();
    // AXI-Lite master
    if (h->al == AL_WRITE) {
        if (t->s_axil_awvalid && t->s_axil_awready) h->al_aw = false;
        if (t->s_axil_wvalid && t->s_axil_wready) h->al_w = false;
        if (!h->al_aw && !h->al_w) h->al = AL_WAIT_B;
    } else if (h->al == AL_WAIT_B) {
        if (t->s_axil_bvalid) {
            h->al_resp = t->s_axil_bresp;
            h->al = AL_IDLE;
            h->al_done = true;
        }
    } else if (h->al == AL_READ) {
        if (t->s_axil_arvalid && t->s_axil_arready) {
            h->al_ar = false;
            h->al = AL_WAIT_R;
        }
    } else if (h->al == AL_WAIT_R) {
        if (t->s_axil_rvalid) {
            h->al_rdata = t->s_axil_rdata;
            h->al_resp = t->s_axil_rresp;
            h->al = AL_IDLE;
            h->al_done = true;
        }
    }
}

inline void cycle(Harness* h) {
    drive(h);
    h->top->clk_i = 0;
    h->top->eval();
    dump(h, 0);
    sample(h);
    if (h->record) {
        const uint16_t e = h->top->events_o;
        if (e != h->last_events) {
            h->ev_cycle.push_back(h->now);
            h->ev_value.push_back(e);
            h->last_events = e;
        }
    }
    h->top->clk_i = 1;
    h->top->eval();
    dump(h, 1);
    ++h->now;
}

int axil_wait(Harness* h, uint64_t max_cycles) {
    for (uint64_t n = 0; n < max_cycles; ++n) {
        cycle(h);
        if (h->al_done) return 0;
    }
    return -1;
}

}  // namespace

extern "C" {

void* th_create(uint64_t dram_bytes, uint32_t read_latency, uint32_t write_latency,
                const char* vcd_path) {
    Harness* h = new Harness();
    h->ctx = new VerilatedContext();
    h->top = new Vdut(h->ctx, "dut");
    h->mem = static_cast<uint8_t*>(std::calloc(dram_bytes, 1));
    if (!h->mem) {
        delete h->top;
        delete h->ctx;
        delete h;
        return nullptr;
    }
    h->size = dram_bytes;
    h->read_latency = read_latency;
    h->write_latency = write_latency;
#if TH_TRACE
    if (vcd_path && vcd_path[0]) {
        h->ctx->traceEverOn(true);
        h->tfp = new VerilatedVcdC();
        h->top->trace(h->tfp, 99);
        h->tfp->open(vcd_path);
    }
#else
    (void)vcd_path;
#endif
    return h;
}

int th_has_trace() { return TH_TRACE; }

uint32_t th_bus_bits() { return BUS_BITS; }

void th_destroy(void* p) {
    Harness* h = static_cast<Harness*>(p);
    if (!h) return;
#if TH_TRACE
    if (h->tfp) {
        h->tfp->close();
        delete h->tfp;
    }
#endif
    h->top->final();
    delete h->top;
    delete h->ctx;
    std::free(h->mem);
    delete h;
}

void th_reset(void* p, uint32_t cycles) {
    Harness* h = static_cast<Harness*>(p);
    h->rq.clear();
    h->wq.clear();
    h->bq.clear();
    h->al = AL_IDLE;
    h->al_aw = h->al_w = h->al_ar = false;
    h->top->rst_ni = 0;
    for (uint32_t n = 0; n < cycles; ++n) cycle(h);
    h->top->rst_ni = 1;
    cycle(h);
}

int th_write_dram(void* p, uint64_t addr, const uint8_t* src, uint64_t n) {
    Harness* h = static_cast<Harness*>(p);
    if (addr > h->size || n > h->size - addr) return -1;
    std::memcpy(h->mem + addr, src, n);
    return 0;
}

int th_read_dram(void* p, uint64_t addr, uint8_t* dst, uint64_t n) {
    Harness* h = static_cast<Harness*>(p);
    if (addr > h->size || n > h->size - addr) return -1;
    std::memcpy(dst, h->mem + addr, n);
    return 0;
}

// AXI-Lite write; returns BRESP, or -1 if the slave did not answer within max_cycles.
int th_axil_write(void* p, uint32_t addr, uint32_t data, uint64_t max_cycles) {
    Harness* h = static_cast<Harness*>(p);
    h->al = AL_WRITE;
    h->al_aw = h->al_w = true;
    h->al_addr = addr;
    h->al_data = data;
    h->al_done = false;
    return axil_wait(h, max_cycles) == 0 ? h->al_resp : -1;
}

// AXI-Lite read into *out; returns RRESP, or -1 on timeout.
int th_axil_read(void* p, uint32_t addr, uint32_t* out, uint64_t max_cycles) {
    Harness* h = static_cast<Harness*>(p);
    h->al = AL_READ;
    h->al_ar = true;
    h->al_addr = addr;
    h->al_done = false;
    if (axil_wait(h, max_cycles) != 0) return -1;
    *out = h->al_rdata;
    return h->al_resp;
}

// Run until CTRL reports done (returns 0) or error (1), polling CTRL (at ctrl_addr) every
// `poll` cycles and whenever irq_o is high; 2: max_cycles ran out; 3: wall-clock timeout;
// 4: the control slave stopped answering. *cycles_out: cycles simulated.
int th_run(void* p, uint32_t ctrl_addr, uint32_t done_mask, uint32_t error_mask,
           uint64_t max_cycles, uint32_t poll, double timeout_s, uint64_t* cycles_out) {
    Harness* h = static_cast<Harness*>(p);
    const uint64_t start = h->now;
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::microseconds(int64_t(timeout_s * 1e6));
    uint64_t next_poll = h->now + poll;
    int rc = 2;
    h->al_done = false;
    while (h->now - start < max_cycles) {
        cycle(h);
        if (h->al_done) {
            h->al_done = false;
            if (h->al_rdata & error_mask) { rc = 1; break; }
            if (h->al_rdata & done_mask) { rc = 0; break; }
        }
        if (h->al == AL_IDLE && (h->now >= next_poll || h->top->irq_o)) {
            h->al = AL_READ;
            h->al_ar = true;
            h->al_addr = ctrl_addr;
            h->al_done = false;
            next_poll = h->now + poll;
        }
        if (((h->now - start) & 0xFFFF) == 0 && std::chrono::steady_clock::now() > deadline) {
            rc = 3;
            break;
        }
    }
    // Finish an outstanding control read so the next access starts clean.
    if (h->al != AL_IDLE && axil_wait(h, 1000) != 0) rc = 4;
    h->al_done = false;
    *cycles_out = h->now - start;
    return rc;
}

// Run exactly n cycles (for tests of the harness itself).
void th_step(void* p, uint64_t n) {
    Harness* h = static_cast<Harness*>(p);
    for (uint64_t i = 0; i < n; ++i) cycle(h);
}

uint64_t th_now(void* p) { return static_cast<Harness*>(p)->now; }

// Start (on != 0, clearing what was recorded) or stop recording the unit-activity timeline.
void th_events_record(void* p, int on) {
    Harness* h = static_cast<Harness*>(p);
    h->record = on != 0;
    if (h->record) {
        h->ev_cycle.clear();
        h->ev_value.clear();
        h->last_events = 0;
    }
}

uint64_t th_events_count(void* p) { return static_cast<Harness*>(p)->ev_cycle.size(); }

// Copy the recorded changes: cycles[i] is when events_o became values[i].
void th_events_copy(void* p, uint64_t* cycles, uint16_t* values) {
    Harness* h = static_cast<Harness*>(p);
    std::copy(h->ev_cycle.begin(), h->ev_cycle.end(), cycles);
    std::copy(h->ev_value.begin(), h->ev_value.end(), values);
}

}  // extern "C"
