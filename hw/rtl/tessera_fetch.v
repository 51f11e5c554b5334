// Fetch: reads insn_count 128-bit instructions from DRAM at insn_addr (16-byte aligned)
// and dispatches each, tagged with its index, to the load, compute or store command queue
// (LOAD of INP/WGT -> load; LOAD of UOP/ACC/OUT, GEMM, ALU, FINISH -> compute; STORE ->
// store). An unknown opcode or memory type raises ILLEGAL_INSN. After FINISH the rest of the
// stream is read and dropped; a stream without FINISH raises ILLEGAL_INSN at index
// insn_count. Beats land in a local buffer and a burst is requested only when
// the buffer has room for it, so fetch never holds the shared read channel.
`default_nettype none

module tessera_fetch (
    input  wire                clk_i,
    input  wire                rst_ni,
    input  wire                clear_i,
    input  wire                halt_i,
    input  wire                start_i,
    input  wire [31:0]         insn_addr_i,
    input  wire [31:0]         insn_count_i,
    // DMA reader side (to the arbiter)
    output wire                ar_valid_o,
    output wire [31:0]         ar_addr_o,
    output wire [7:0]          ar_len_o,
    input  wire                ar_ready_i,
    input  wire                r_valid_i,
    input  wire [BUS_BITS-1:0] r_data_i,
    input  wire                r_last_i,
    input  wire [1:0]          r_resp_i,
    output wire                r_ready_o,
    output wire                quiet_o,
    // command queues: {pc[31:0], insn[127:0]}
    output wire [159:0]        cmd_o,
    output wire                ld_push_o,
    input  wire                ld_full_i,
    output wire                cp_push_o,
    input  wire                cp_full_i,
    output wire                st_push_o,
    input  wire                st_full_i,
    // status
    output wire                done_o,
    output wire [31:0]         pc_o,
    output wire                busy_o,
    output wire                stall_o,
    output wire                err_o,
    output wire [2:0]          err_code_o,
    output wire [31:0]         err_pc_o
);
`include "tessera_params.vh"

  localparam integer INSN_BEATS = INSN_BITS / BUS_BITS;
  localparam integer LOG_BUF = $clog2(2 * MAX_BURST);
  localparam [7:0] BEAT_LAST = INSN_BEATS[7:0] - 8'd1;
  localparam integer LOG_INSN_BEATS = $clog2(INSN_BEATS);

  reg [127:0] insn_q, insn_d;
  reg [7:0]   icnt_q, icnt_d;
  reg         ivalid_q, ivalid_d;
  reg [31:0]  left_q, left_d;     // instructions not yet dispatched or dropped
  reg [31:0]  pc_q, pc_d;
  reg         finish_q, finish_d;
  reg         started_q, started_d;

  wire [BUS_BITS-1:0] beat;
  wire                buf_empty;
  wire                unused_buf_full;
  wire [LOG_BUF:0]    buf_count;
  wire                d_valid;
  wire [BUS_BITS-1:0] d_data;
  wire                bus_err;
  wire                req_ready;
  reg                 req_valid_q;
  reg  [31:0]         rx_q;       // beats received: a faulting beat belongs to rx_q / INSN_BEATS

  wire [2:0] opcode = insn_q[F_OPCODE_LSB +: F_OPCODE_W];
  wire [2:0] mem_type = insn_q[F_MEM_MEM_TYPE_LSB +: F_MEM_MEM_TYPE_W];
  wire is_mem = opcode == OP_LOAD[2:0] || opcode == OP_STORE[2:0];
  wire illegal = opcode > OP_FINISH[2:0] || (is_mem && mem_type > MEM_TYPE_OUT[2:0]);
  wire to_load = opcode == OP_LOAD[2:0]
      && (mem_type == MEM_TYPE_INP[2:0] || mem_type == MEM_TYPE_WGT[2:0]);
  wire to_store = opcode == OP_STORE[2:0];
  wire to_compute = !to_load && !to_store;
  wire target_full = (to_load && ld_full_i) || (to_store && st_full_i)
      || (to_compute && cp_full_i);
  wire running = started_q && !halt_i;
  wire handle = running && ivalid_q && (finish_q || (!illegal && !target_full));
  wire dispatch = handle && !finish_q;
  wire pop_beat = running && !ivalid_q && !buf_empty;
  // a stream that ends without FINISH: ILLEGAL_INSN at pc = insn_count
  wire no_finish = running && left_q == 32'd0 && !finish_q;
  wire [15:0] free = (16'd1 << LOG_BUF) - {{(15-LOG_BUF){1'b0}}, buf_count};

  integer k;
  always @* begin
    k = 0;
    insn_d = insn_q;
    icnt_d = icnt_q;
    ivalid_d = ivalid_q;
    left_d = left_q;
    pc_d = pc_q;
    finish_d = finish_q;
    started_d = started_q;
    if (start_i) begin
      icnt_d = 8'd0;
      ivalid_d = 1'b0;
      left_d = insn_count_i;
      pc_d = 32'd0;
      finish_d = 1'b0;
      started_d = 1'b1;
    end
    if (pop_beat) begin
      for (k = 0; k < INSN_BEATS; k = k + 1)
        if (icnt_q == k[7:0]) insn_d[k*BUS_BITS +: BUS_BITS] = beat;
      if (icnt_q == BEAT_LAST) begin
        icnt_d = 8'd0;
        ivalid_d = 1'b1;
      end else begin
        icnt_d = icnt_q + 8'd1;
      end
    end
    if (handle) begin
      ivalid_d = 1'b0;
      left_d = left_q - 32'd1;
      pc_d = pc_q + 32'd1;
      if (opcode == OP_FINISH[2:0]) finish_d = 1'b1;
    end
  end

  always @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      insn_q <= 128'd0;
      icnt_q <= 8'd0;
      ivalid_q <= 1'b0;
      left_q <= 32'd0;
      pc_q <= 32'd0;
      finish_q <= 1'b0;
      started_q <= 1'b0;
      req_valid_q <= 1'b0;
      rx_q <= 32'd0;
    end else begin
      insn_q <= insn_d;
      icnt_q <= icnt_d;
      ivalid_q <= ivalid_d;
      left_q <= left_d;
      pc_q <= pc_d;
      finish_q <= finish_d;
      started_q <= started_d;
      req_valid_q <= start_i ? insn_count_i != 32'd0 : (req_valid_q && !req_ready);
      if (start_i) rx_q <= 32'd0;
      else if (d_valid) rx_q <= rx_q + 32'd1;
    end
  end

  tessera_dma_reader u_dma (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .halt_i(halt_i),
    .req_valid_i(req_valid_q), .req_addr_i(insn_addr_i),
    .req_beats_i(insn_count_i * INSN_BEATS), .req_ready_o(req_ready), .credit_i(free),
    .ar_valid_o(ar_valid_o), .ar_addr_o(ar_addr_o), .ar_len_o(ar_len_o),
    .ar_ready_i(ar_ready_i), .r_valid_i(r_valid_i), .r_data_i(r_data_i), .r_last_i(r_last_i),
    .r_resp_i(r_resp_i), .r_ready_o(r_ready_o), .d_valid_o(d_valid), .d_data_o(d_data),
    .d_ready_i(1'b1), .quiet_o(quiet_o), .bus_err_o(bus_err)
  );

  tessera_fifo #(.WIDTH(BUS_BITS), .LOG_DEPTH(LOG_BUF)) u_buf (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i),
    .push_i(d_valid), .wdata_i(d_data), .full_o(unused_buf_full),
    .pop_i(pop_beat), .rdata_o(beat), .empty_o(buf_empty), .count_o(buf_count)
  );

  assign cmd_o = {pc_q, insn_q};
  assign ld_push_o = dispatch && to_load;
  assign cp_push_o = dispatch && to_compute;
  assign st_push_o = dispatch && to_store;
  assign done_o = started_q && left_q == 32'd0 && finish_q;
  assign pc_o = pc_q;
  assign busy_o = running && left_q != 32'd0 && !(ivalid_q && !finish_q && target_full);
  assign stall_o = running && ivalid_q && !finish_q && target_full;
  assign err_o = (running && ivalid_q && illegal && !finish_q) || no_finish || bus_err;
  assign err_code_o = bus_err ? ERR_BUS_ERROR[2:0] : ERR_ILLEGAL_INSN[2:0];
  assign err_pc_o = bus_err ? (rx_q >> LOG_INSN_BEATS) : pc_q;
endmodule

`default_nettype wire
